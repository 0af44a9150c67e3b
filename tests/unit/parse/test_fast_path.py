"""The DuckDB fast path for CSV exports gives exactly what the Python path gives, file by file."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from ingest.common.errors import ExportError
from ingest.parse import fast as fastparse
from ingest.parse import transcode
from ingest.parse.cells import normalize_name
from ingest.parse.fast import lines as lines_module
from ingest.parse.fast.lines import ODD_BYTES, Lines
from ingest.parse.fast.sql import safe_name_class
from ingest.parse.files import FileLoad, parse_file, parse_files, raw_schema
from ingest.parse.readers import open_export
from ingest.rules.creditcode import corrupt_check_character, make_code
from ingest.rules.layouts import layout_for
from ingest.rules.typing_rules import BRACKETS, ENUMS, FULL_WIDTH_BRACKETS, GRADE_SPELLINGS
from ingest.sample.generate import write_sample

DATE = dt.date(2023, 10, 31)
CORPUS = Path(__file__).resolve().parents[2] / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))


def _outcome(path: Path, name: str, source: str, out: Path, fast: bool, typed_by: str | None = None):
    """(the load's accounting, loaded rows, quarantined rows) of one parse, or the error's message.

    `typed_by`: the path ("duckdb" or "python") that must have typed the file's rows.
    """
    layout = layout_for(source, name)
    try:
        load = parse_file(path, name, layout, DATE, out / "raw", out / "quarantine", "sha", fast=fast)
    except ExportError as err:
        return str(err)
    if typed_by is not None:
        assert load.typed_by == typed_by, f"{name}: typed by {load.typed_by}, expected {typed_by}"
    return _written(load, name, out)


def _written(load: FileLoad | ExportError, name: str, out: Path):
    """What a parse wrote under `out` and counted, or the error's message."""
    if isinstance(load, ExportError):
        return str(load)
    accounting = {k: v for k, v in load.as_row().items() if k != "seconds"}
    stem = name.rsplit(".", 1)[0]
    loaded = pq.read_table(out / "raw" / f"{stem}.parquet")
    rejected = pq.read_table(out / "quarantine" / f"{stem}.parquet").to_pylist()
    for row in rejected:
        row["row_json"] = json.loads(row["row_json"])
    return accounting, loaded.schema.names, loaded.to_pylist(), rejected


def assert_same(path: Path, name: str, source: str, tmp_path: Path, fast_path: str = "duckdb"):
    """Both paths give the same file; the fast one took it (`fast_path`: or declined it whole to python)."""
    fast = _outcome(path, name, source, tmp_path / "fast", fast=True, typed_by=fast_path)
    python = _outcome(path, name, source, tmp_path / "python", fast=False, typed_by="python")
    assert fast == python
    return fast


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample(out, DATE)
    return out


@pytest.mark.parametrize("source", ["registry", "membership", "qualifications", "funding"])
def test_sample_exports_parse_the_same_both_ways(sample, source, tmp_path):
    files = sorted((sample / source / DATE.isoformat()).glob("*.csv"))
    assert files, f"the sample writes {source} CSV files"
    for i, path in enumerate(files):
        assert_same(path, path.name, source, tmp_path / str(i))


def test_files_parsed_together_come_out_as_parsed_alone(sample, tmp_path):
    """parse_files types CSV files of one shape in one DuckDB query: each file, the bad ones among
    the good ones included, must come out exactly as parse_file gives it on its own."""
    files = [(path, path.name, source) for source in ("registry", "membership", "qualifications")
             for path in sorted((sample / source / DATE.isoformat()).glob("*.csv"))]  # fmt: skip
    for case in sorted(c for c in CASES if c.endswith(".csv")):
        name = CASES[case].get("name", "registry_320500_20231031.csv")
        if layout_for(CASES[case].get("source", "registry"), name):
            files.append((CORPUS / "files" / case, name, CASES[case].get("source", "registry")))
    files += files[:1] + files[-1:]  # the same rows twice in a batch: no duplicates across files
    jobs = []
    for i, (path, name, source) in enumerate(files):
        out = tmp_path / f"together/{i}"
        jobs.append((path, name, layout_for(source, name), DATE, out / "raw", out / "quarantine", "sha"))
    assert max(Counter(map(_shape, jobs)).values()) >= 20, "good and bad files share a batch"
    together = parse_files(jobs)
    for i, ((path, name, source), load) in enumerate(zip(files, together, strict=True)):
        alone = _outcome(path, name, source, tmp_path / f"alone/{i}", fast=True)
        assert _written(load, name, tmp_path / f"together/{i}") == alone, name


def _shape(job: tuple) -> tuple | None:
    try:
        return fastparse.shape(job[2], open_export(job[0], job[2], job[1]))
    except ExportError:
        return None


@pytest.mark.parametrize("case", sorted(c for c in CASES if c.endswith(".csv")))
def test_bad_inputs_parse_the_same_both_ways(case, tmp_path):
    expected = CASES[case]
    file = CORPUS / "files" / case
    name = expected.get("name", "registry_320500_20231031.csv")
    source = expected.get("source", "registry")
    if layout_for(source, name) is None:
        pytest.skip("a name no layout matches is refused before parsing")
    assert_same(file, name, source, tmp_path, expected.get("fast_path", "duckdb"))


HEADER = ["统一社会信用代码", "社会组织名称", "社会组织类型", "法定代表人", "成立登记日期",
          "注册资金（万元）", "住所", "登记状态", "评估等级", "评估有效期至"]  # fmt: skip


def _tricky_rows() -> list[list[str]]:
    """Rows that each probe one edge between what DuckDB types and what it must leave to Python."""
    import random

    rng = random.Random(3)
    code = lambda: make_code("5", "1", "320508", rng)  # noqa: E731
    plain = ["苏州市甲协会", "社会团体", "张三", "2019-03-05", "100", "人民路1号", "正常", "5A", "2025-12-31"]
    variants = [
        {},
        {1: "苏州市围棋協會"},
        {1: "苏州市（围棋）协会"},
        {1: "苏州市[围棋]协会 "},
        {1: "苏州市【围棋】协会"},
        {1: " 苏州市\u00a0围棋协会"},
        {1: "苏州市围棋协会\t"},
        {1: "\u3000苏州市围棋协会"},
        {6: "人民路\u30001号"},
        {6: "\u00a0人民路1号"},
        {6: "人民路 1号 "},
        {4: "2019/3/5"},
        {4: "2019年3月5日"},
        {4: "2019年3月5"},
        {4: "20190305"},
        {4: "2019.03.05"},
        {4: "43529"},
        {4: "2023-02-30"},
        {4: "0999-01-01"},
        {4: "0000-01-01"},
        {4: "2023-11-01"},
        {4: "2019-03-05 10:30"},
        {4: "２０１９-03-05"},
        {4: "２０１９－０３－０５"},
        {4: "２０２３－０２－３０"},
        {4: "２０１９年３月５日"},
        {4: "２０１９／３／５"},
        {4: "00000"},
        {4: "04352"},
        {4: "99999"},
        {4: "４３５２９"},
        {5: "1,000.5"},
        {5: "-3"},
        {5: "530万人民币"},
        {5: "12.34567"},
        {5: "N/A"},
        {5: "—"},
        {8: "3a"},
        {8: "AAAAA"},
        {8: "５Ａ"},
        {8: "未评估"},
        {8: "6A"},
        {2: "基金会"},
        {2: "社团"},
        {2: "协会"},
        {7: "注销"},
        {7: " 正常 "},
        {9: ""},
        {0: "wrong-check"},
        {0: "lower"},
        {0: " padded"},
        {0: ""},
        {0: "duplicate"},
        {1: ""},
        {1: "N/A"},
        {3: "张\x00三"},
    ]
    rows, first = [], None
    for change in variants:
        cells = [code(), *plain]
        for index, value in change.items():
            cells[index] = value
        if cells[0] == "wrong-check":
            cells[0] = corrupt_check_character(code())
        elif cells[0] == "lower":
            cells[0] = code().lower()
        elif cells[0] == " padded":
            cells[0] = f" {code()} "
        elif cells[0] == "duplicate":
            cells[0] = first
        first = first or cells[0]
        rows.append(cells)
    return rows


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gb18030 in halves"])
def test_tricky_cells_type_the_same_both_ways(encoding, tmp_path, monkeypatch):
    if encoding == "gb18030 in halves":  # decoded by two processes, as a large file is
        monkeypatch.setattr(transcode, "SPLIT_BYTES", 1)
        encoding = "gb18030"
    path = tmp_path / "registry_320500_20231031.csv"
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["苏州市社会组织名录"])
        writer.writerow(HEADER)
        writer.writerows(_tricky_rows())
        writer.writerow(["合计：56"])
    outcome = assert_same(path, path.name, "registry", tmp_path)
    accounting = outcome[0]
    assert accounting["rows_read"] == 56
    assert accounting["rows_read"] == accounting["rows_loaded"] + accounting["rows_quarantined"]
    assert {"credit_code_check_character", "duplicate_credit_code", "date_impossible", "date_in_future",
            "cell_contains_nul", "grade_unknown", "org_name_missing"} <= set(json.loads(
                accounting["quarantine_reasons"]))  # fmt: skip


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_a_file_without_odd_bytes_still_declines_cr_and_ideographic_spaces(line_end, tmp_path):
    """A file whose rows hold no control character but CR and LF, and no character below U+3000 but
    ASCII, is typed without the spacing regex: a CR or a U+3000 in any cell must still decline its row."""
    rows = [row for row in _tricky_rows() if not any(_odd_byte(cell) for cell in row)]
    assert len(rows) > 40, "most tricky rows are free of odd bytes"
    probes = [{1: "\u3000苏州市围棋协会"}, {6: "人民路\u30001号"}, {1: "苏州市围棋协会\r"},
              {6: "\r人民路1号"}, {6: "人民路\r1号"}, {1: "苏州市 围棋协会\u3000"}]  # fmt: skip
    # Only free text is searched for them: in a cell of any other kind they must fail its pattern.
    typed_probes = [{2: "社会团体\u3000"}, {4: "2019-03-05\r"}, {5: "\u3000100"}, {7: "正常\r"},
                    {8: "\r5A"}, {9: "2025-12-31\u3000"}]  # fmt: skip
    for i, change in enumerate(probes + typed_probes):
        cells = [make_code("5", "1", "320508", random.Random(100 + i)), *rows[0][1:]]
        for index, value in change.items():
            cells[index] = value
        rows.append(cells)
    path = tmp_path / "registry_320500_20231031.csv"
    title = ["苏州市社会组织名录——全市"]  # a dash (U+2014) in the title rows only
    # csv.writer leaves a CR unquoted unless it ends lines: quote it, or it would break the line.
    lines = [
        ",".join(f'"{c}"' if set(c) & set(",\r\n") else c for c in row) for row in [title, HEADER, *rows]
    ]
    path.write_bytes("".join(line + line_end for line in lines).encode("utf-8"))
    assert not Lines.of_file(path, header_lines=2).odd_bytes
    assert Lines.of_file(path).odd_bytes, "the title's dash is an odd byte"
    outcome = assert_same(path, path.name, "registry", tmp_path)
    assert outcome[0]["rows_read"] == len(rows)
    probed = ("org_type", "registered_on", "registered_capital", "status", "rating", "rating_valid_until")
    typed = [tuple(str(row[name]) for name in probed) for row in outcome[2][-len(typed_probes) :]]
    expected = ("social_group", "2019-03-05", "100.0000", "active", "5", "2025-12-31")
    assert typed == [expected] * len(typed_probes), "the probes in typed columns load stripped, as in Python"
    assert [(row["org_name"], row["address"]) for row in outcome[2][-12:-6]] == [
        ("苏州市围棋协会", "人民路1号"),
        ("苏州市甲协会", "人民路 1号"),
        ("苏州市围棋协会", "人民路1号"),
        ("苏州市甲协会", "人民路1号"),
        ("苏州市甲协会", "人民路\r1号"),
        ("苏州市 围棋协会", "人民路1号"),
    ], "the probes load as Python types them: spaces and CRs at the edges stripped"


def _odd_byte(cell: str) -> bool:
    return any(b in ODD_BYTES for b in cell.encode("utf-8"))


def test_the_first_odd_byte_is_reported_once_as_soon_as_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(lines_module, "CHUNK", 8)
    path = tmp_path / "rows.csv"
    path.write_bytes(b"row,1\n" * 4 + b"row,\xc2\xa02\n" + b"row,3\n" * 20 + b"row,\x0b4\n")
    feeds, seen = [], []
    feed = Lines.feed
    monkeypatch.setattr(Lines, "feed", lambda self, chunk: feeds.append(feed(self, chunk)))
    lines = Lines.of_file(path, 0, lambda: seen.append(len(feeds)))
    assert (seen, len(feeds), lines.count, lines.odd_bytes) == ([4], 20, 26, True), "once, at the 4th chunk"
    assert Lines.of_file(path, 26, lambda: seen.append(0)).odd_bytes is False and seen == [4]


def test_odd_bytes_are_found_in_any_chunk_and_not_in_header_lines():
    lines = Lines(header_lines=2)
    for chunk in (b"title \xe2\x80\x94\n", b"head\tline\nrow,1\r\n", b"row,2\r\n" * 3):
        lines.feed(chunk)
    assert (lines.count, lines.odd_bytes) == (6, False)
    lines.feed(b"row,\xc2\xa03\n")
    assert (lines.count, lines.odd_bytes) == (7, True)
    assert Lines(header_lines=0).feed(b"\x01") is None


def test_the_fast_path_types_the_tricky_file_itself(tmp_path):
    """The tricky file is not declined whole: DuckDB takes its plain rows, Python only the rest."""
    path = tmp_path / "registry_320500_20231031.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(_tricky_rows())
    layout = layout_for("registry", path.name)
    export = open_export(path, layout)
    outputs = {"loaded": tmp_path / "l.parquet", "rejected": tmp_path / "r.parquet"}
    lineage = {"export_date": DATE, "source_file": path.name}
    result = fastparse.parse_csv(path, layout, export, DATE, outputs, {}, lineage, raw_schema(layout))
    assert result.rows_read == 56
    assert pq.read_table(outputs["loaded"]).num_rows == result.rows_loaded


HEAD = "统一社会信用代码,社会组织名称,社会组织类型,登记状态"
ROW = "51320508MJ0000000X,甲协会,社会团体,正常"
UNACCOUNTABLE = {
    "blank line": [HEAD, ROW, "", ROW],
    "row cut short": [HEAD, ROW, "51320508MJ0000000X,乙协会"],
    "row too long": [HEAD, ROW, ROW + ",多余"],
    "value spans lines": [HEAD, '51320508MJ0000000X,"甲\n协会",社会团体,正常'],
    "carriage returns only": [HEAD + "\r" + ROW],
}


@pytest.mark.parametrize("case", sorted(UNACCOUNTABLE))
def test_files_the_fast_path_cannot_account_for_are_declined_whole(case, tmp_path):
    """Blank lines, ragged rows and the like: DuckDB declines the file and Python parses it."""
    path = tmp_path / "registry_320500_20231031.csv"
    path.write_text("\n".join(UNACCOUNTABLE[case]) + "\n", encoding="utf-8")
    layout = layout_for("registry", path.name)
    outputs = {"loaded": tmp_path / "l.parquet", "rejected": tmp_path / "r.parquet"}
    lineage = {"export_date": DATE, "source_file": path.name}
    with pytest.raises(fastparse.Declined):
        fastparse.parse_csv(
            path, layout, open_export(path, layout), DATE, outputs, {}, lineage, raw_schema(layout)
        )
    assert_same(path, path.name, "registry", tmp_path, fast_path="python")


def test_a_wrong_check_character_ranks_after_the_reasons_of_earlier_columns(tmp_path):
    """The check characters are computed after the typing query; a row's reason must still be the
    first its columns give in order, as in Python: a missing member name before a wrong code."""
    rng = random.Random(7)
    good, wrong = (
        make_code("9", "1", "320508", rng),
        corrupt_check_character(make_code("9", "1", "320508", rng)),
    )
    rows = [["会员单位名称", "统一社会信用代码", "会员类型", "入会日期"],
            ["甲公司", good, "单位会员", "2020-01-02"], ["乙公司", wrong, "单位会员", "2020-01-02"],
            ["", wrong, "单位会员", "2020-01-02"], ["丙公司", wrong, "单位会员", "2030-01-02"]]  # fmt: skip
    name = f"membership_{make_code('5', '1', '320508', rng)}_20231031.csv"
    path = tmp_path / name
    path.write_text("".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    outcome = assert_same(path, name, "membership", tmp_path)
    assert [(r["reason"], r["column_name"], r["value"]) for r in outcome[3]] == [
        ("credit_code_check_character", "member_credit_code", wrong),
        ("member_name_missing", "member_name", ""),
        ("credit_code_check_character", "member_credit_code", wrong),
    ]


def test_rows_quarantined_after_the_typing_query_get_their_own_cells_back_from_a_large_file(tmp_path):
    """Rows found wrong after the typing query (check characters, duplicates) kept no copy of their
    cells: they are read again by position. In a file large enough for DuckDB to read in parallel,
    each must get its own line's cells, and its own row number."""
    rng = random.Random(11)
    rows, expected, drawn = [], {}, set()
    for i in range(160_000):  # about 40 MB: many of DuckDB's read buffers
        while (code := make_code("5", "1", "320508", rng)) in drawn:  # random codes may repeat
            pass
        drawn.add(code)
        if i % 9_973 == 5:
            code = corrupt_check_character(code)
            expected[i + 3] = ("credit_code_check_character", code, f"第{i}号协会")
        elif i % 12_007 == 7:
            code = rows[i - 7][0]
            expected[i + 3] = ("duplicate_credit_code", code, f"第{i}号协会")
        rows.append(
            [code, f"第{i}号协会", "社会团体", "张三", "2019-03-05", "100", "人民路" + "1" * 160, "正常"]
        )
    path = tmp_path / "registry_320500_20231031.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["苏州市社会组织名录"])
        writer.writerow(HEADER[:8])
        writer.writerows(rows)
    assert path.stat().st_size > 32 << 20
    layout = layout_for("registry", path.name)
    outputs = {"loaded": tmp_path / "l.parquet", "rejected": tmp_path / "r.parquet"}
    lineage = {"export_date": DATE, "source_file": path.name}
    export = open_export(path, layout)
    result = fastparse.parse_csv(path, layout, export, DATE, outputs, {}, lineage, raw_schema(layout))
    quarantined = pq.read_table(outputs["rejected"]).to_pylist()
    got = {}
    for row in quarantined:
        cells = json.loads(row["row_json"])
        got[row["source_row"]] = (row["reason"], cells["credit_code"], cells["org_name"])
    assert got == expected and len(expected) > 25
    assert result.rows_read == len(rows) == result.rows_loaded + len(expected)


def test_names_the_fast_path_keeps_fold_as_python_folds_them():
    """Every character the SQL name check lets through is folded by SQL exactly as halfwidth() and
    normalize_name() fold it, so DuckDB's name and normalized name equal Python's."""
    import re

    from ingest.parse.cells import halfwidth

    spans = re.findall(r"\\x\{([0-9A-F]+)\}(?:-\\x\{([0-9A-F]+)\})?", safe_name_class())
    characters = [chr(c) for a, b in spans for c in range(int(a, 16), int(b or a, 16) + 1)]
    characters += [chr(c) for c in range(0x20, 0x7F)]
    assert len(characters) > 15_000
    folding = str.maketrans(FULL_WIDTH_BRACKETS)
    brackets = str.maketrans(BRACKETS)
    for ch in characters:
        folded = ch.translate(folding)
        assert halfwidth(ch) == folded
        assert normalize_name(ch) == folded.translate(brackets).replace(" ", "")


def test_a_spelling_added_to_the_rules_is_typed_by_both_paths(tmp_path, monkeypatch):
    """The rules are written once: a spelling added to them is typed alike by DuckDB's SQL (generated
    from the rules) and by Python — and before it was added, both quarantined it."""
    rng = random.Random(5)
    rows = [[*HEADER[:3], "登记状态", "评估等级"]]
    code = lambda: make_code("5", "1", "320508", rng)  # noqa: E731
    rows += [[code(), f"苏州市第{i}协会", "社会团体法人", "正常", "五星"] for i in range(3)]
    path = tmp_path / "registry_320500_20231031.csv"
    path.write_text("".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    before = assert_same(path, path.name, "registry", tmp_path / "before")
    assert {r["reason"] for r in before[3]} == {"org_type_unknown"} and before[2] == []
    monkeypatch.setitem(ENUMS["org_type"][0], "社会团体法人", "social_group")
    monkeypatch.setitem(GRADE_SPELLINGS, "五星", 5)
    after = assert_same(path, path.name, "registry", tmp_path / "after")
    assert [(r["org_type"], r["rating"]) for r in after[2]] == [("social_group", 5)] * 3 and after[3] == []
