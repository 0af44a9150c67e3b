"""GB18030 exports decoded into UTF-8 for DuckDB, a large file's halves by two processes."""

from __future__ import annotations

import pytest

from ingest.parse import transcode
from ingest.parse.transcode import Undecodable, _split_point, utf8_copy

TEXT = "".join(f"{i},苏州市第{i}号行业协会,㐀𠀀€,“引号”\r\n" for i in range(2_000))


@pytest.fixture
def split_small(monkeypatch):
    """Every file counts as large, so that the second process decodes its first half."""
    monkeypatch.setattr(transcode, "SPLIT_BYTES", 1)


def test_two_halves_decode_to_what_one_pass_gives(split_small, tmp_path):
    source, target = tmp_path / "export.csv", tmp_path / "utf8.csv"
    source.write_bytes(TEXT.encode("gb18030"))
    split = _split_point(source, source.stat().st_size)
    assert 0 < split < source.stat().st_size  # the file is decoded in two halves
    assert source.read_bytes()[split - 1 : split] == b"\n"
    utf8_copy(source, "gb18030", target)
    assert target.read_bytes() == TEXT.encode("utf-8")


def test_a_small_file_is_decoded_in_one_pass(tmp_path):
    source, target = tmp_path / "export.csv", tmp_path / "utf8.csv"
    source.write_bytes(TEXT.encode("gb18030"))
    utf8_copy(source, "gb18030", target)
    assert target.read_bytes() == TEXT.encode("utf-8")


@pytest.mark.parametrize("where", ["first half", "second half"])
def test_bytes_that_are_not_gb18030_are_refused_in_either_half(where, split_small, tmp_path):
    data = bytearray(TEXT.encode("gb18030"))
    position = len(data) // 4 if where == "first half" else len(data) * 3 // 4
    data[position : position + 2] = b"\x81\x20"  # a lead byte followed by a byte no trail byte can be
    source = tmp_path / "export.csv"
    source.write_bytes(bytes(data))
    with pytest.raises(Undecodable, match="illegal multibyte sequence"):
        utf8_copy(source, "gb18030", tmp_path / "utf8.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]


def test_a_file_without_a_line_feed_after_its_middle_is_not_split(tmp_path):
    source = tmp_path / "export.csv"
    source.write_bytes("协会\n".encode("gb18030") + "名称".encode("gb18030") * 100)
    assert _split_point(source, source.stat().st_size) == 0
