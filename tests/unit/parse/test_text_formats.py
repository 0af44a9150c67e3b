"""Text exports as offices save them: tab-, semicolon- and pipe-separated, `.tsv` and `.txt`, Excel's
Unicode text (UTF-16, tabs, CRLF), a pandas row index as the first column — each loads like its CSV twin.

The rows are real ones nobody here wrote (../shared/data/real-*), saved here the other ways offices
save the same table."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.common.errors import ExportError
from ingest.parse.fast.lines import Lines
from ingest.parse.files import parse_file
from ingest.rules.creditcode import make_code
from ingest.rules.layouts import layout_for, load_layout

DATE = dt.date(2023, 10, 31)
REAL_REGISTRATIONS = "data/real-registrations/civil_affairs_5x_subset.csv"
PATTERN = r"^membership_(?P<association_credit_code>[0-9A-Z]{18})_(?P<file_date>\d{8})_amac_[a-z]+"
AMAC = f"""\
source: membership
description: AMAC member institutions of one category, with their membership class
file_pattern: '{PATTERN}\\.(?i:csv|tsv|txt)$'
unique_key: member_key
ignored_headers: [序号, 成立时间, 网址, 联系地址, 电话]
columns:
  member_name: {{type: name, required: true, aliases: [基金销售机构名称, 基金管理公司名称]}}
  role: {{type: member_role, aliases: [协会会员]}}
"""


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def delimited(rows: list[list[str]], delimiter: str, line_end: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=line_end).writerows(rows)
    return out.getvalue()


def unicode_text(rows: list[list[str]]) -> bytes:
    """Excel's "Unicode text" save: UTF-16 little-endian with its byte-order mark, tabs, CRLF."""
    return codecs.BOM_UTF16_LE + delimited(rows, "\t", "\r\n").encode("utf-16-le")


def with_row_index(rows: list[list[str]], delimiter: str) -> str:
    """What pandas' to_csv writes by default: the row index as a first column without a header."""
    import pandas as pd

    frame = pd.DataFrame(rows[1:], columns=rows[0])
    return frame.to_csv(sep=delimiter)


# How offices save one table, by the name the file arrives under and its bytes.
SAVED_AS = {
    "tsv, UTF-8": (".tsv", lambda rows: delimited(rows, "\t").encode()),
    "Unicode text (.txt)": (".txt", unicode_text),
    "semicolons, GB18030": (".csv", lambda rows: delimited(rows, ";", "\r\n").encode("gb18030")),
    "pipes, UTF-8 with BOM (.txt)": (".txt", lambda rows: ("\ufeff" + delimited(rows, "|")).encode()),
    "tsv with a pandas row index": (".tsv", lambda rows: with_row_index(rows, "\t").encode()),
    "csv with a pandas row index": (".csv", lambda rows: with_row_index(rows, ",").encode()),
}
DELIMITER = {"tsv, UTF-8": "tab", "Unicode text (.txt)": "tab", "semicolons, GB18030": "semicolon",
             "pipes, UTF-8 with BOM (.txt)": "pipe", "tsv with a pandas row index": "tab",
             "csv with a pandas row index": "comma"}  # fmt: skip
ENCODING = {"Unicode text (.txt)": "utf-16", "semicolons, GB18030": "gb18030",
            "pipes, UTF-8 with BOM (.txt)": "utf-8-sig"}  # fmt: skip


def parsed(path: Path, name: str, layout, out: Path, fast: bool = True):
    """(load, loaded rows without their file name, quarantined rows without theirs)."""
    load = parse_file(path, name, layout, DATE, out / "raw", out / "quarantine", "-", fast=fast)
    stem = name.rsplit(".", 1)[0]
    loaded = pq.read_table(out / "raw" / f"{stem}.parquet").drop(["source_file"]).to_pylist()
    rejected = pq.read_table(out / "quarantine" / f"{stem}.parquet").drop(["source_file"]).to_pylist()
    for row in rejected:  # the two paths space the JSON of a quarantined row's cells differently
        row["row_json"] = json.loads(row["row_json"])
    return load, loaded, rejected


@pytest.mark.parametrize("saved_as", sorted(SAVED_AS))
def test_real_registrations_saved_another_way_load_like_the_csv(saved_as, shared, tmp_path):
    rows = read_rows(shared / REAL_REGISTRATIONS)
    suffix, save = SAVED_AS[saved_as]
    path = tmp_path / f"civil_affairs_5x_2023{suffix}"
    path.write_bytes(save(rows))
    layout = layout_for("registry", path.name)
    assert layout.name == "registry_national_extract"
    twin, twin_loaded, twin_rejected = parsed(
        shared / REAL_REGISTRATIONS, "civil_affairs_5x_2023.csv", layout, tmp_path / "twin"
    )
    load, loaded, rejected = parsed(path, path.name, layout, tmp_path / "saved")
    assert (load.rows_read, load.rows_loaded, load.rows_quarantined) == (75, 74, 1) == (
        twin.rows_read, twin.rows_loaded, twin.rows_quarantined)  # fmt: skip
    assert loaded == twin_loaded and rejected == twin_rejected
    assert load.quarantine_reasons == twin.quarantine_reasons
    assert load.delimiter == DELIMITER[saved_as] and twin.delimiter == "comma"
    assert load.encoding == ENCODING.get(saved_as, "utf-8")
    assert load.unknown_headers == twin.unknown_headers  # the row index is not an unknown column


@pytest.fixture
def amac(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "layouts").mkdir(parents=True)
    (site / "layouts" / "membership_amac.yaml").write_text(AMAC, encoding="utf-8")
    monkeypatch.setenv("SOCORG_SITE", str(site))
    return f"membership_{make_code('5', '1', '100000', random.Random(1))}_20181231_amac_jjxsjg"


@pytest.mark.parametrize("saved_as", sorted(SAVED_AS))
def test_a_real_member_list_saved_another_way_takes_the_fast_path_and_types_alike(
    saved_as, amac, shared, tmp_path
):
    """366 real members (two listed twice): DuckDB types each saving as the Python path does, and
    both as the CSV the association published."""
    rows = read_rows(shared / "data/real-members/jjxsjg.csv")
    suffix, save = SAVED_AS[saved_as]
    path = tmp_path / f"{amac}{suffix}"
    path.write_bytes(save(rows))
    layout = layout_for("membership", path.name)
    fast = parsed(path, path.name, layout, tmp_path / "fast")
    python = parsed(path, path.name, layout, tmp_path / "python", fast=False)
    twin = parsed(shared / "data/real-members/jjxsjg.csv", f"{amac}.csv", layout, tmp_path / "twin")
    assert fast[0].typed_by == "duckdb" and python[0].typed_by == "python"
    assert fast[1:] == python[1:] == twin[1:]
    assert (fast[0].rows_read, fast[0].rows_loaded, fast[0].quarantine_reasons) == (
        366, 364, {"duplicate_member_key": 2})  # fmt: skip


def test_a_tab_inside_a_quoted_cell_of_a_tab_separated_file_is_typed_alike(shared, amac, tmp_path):
    """A tab at the edge of a cell: Python trims it, DuckDB's trim does not. The line count finds the
    extra tab, and the fast path's careful query types the file as Python does."""
    rows = read_rows(shared / "data/real-members/jjxsjg.csv")
    rows[5][1] = "\t" + rows[5][1]
    path = tmp_path / f"{amac}.tsv"
    path.write_text(delimited(rows, "\t"), encoding="utf-8")
    layout = layout_for("membership", path.name)
    fast = parsed(path, path.name, layout, tmp_path / "fast")
    python = parsed(path, path.name, layout, tmp_path / "python", fast=False)
    assert fast[0].typed_by == "duckdb" and fast[1:] == python[1:]
    assert rows[5][1].strip() in {r["member_name"] for r in fast[1]}
    # The count is what sent DuckDB to the careful query: the tab is the file's only odd byte.
    assert Lines.of_file(path, 1, delimiter="\t").tabs_in_cells(len(rows[0]))
    plain = tmp_path / "plain.tsv"
    plain.write_text(delimited(read_rows(shared / "data/real-members/jjxsjg.csv"), "\t"), encoding="utf-8")
    assert not Lines.of_file(plain, 1, delimiter="\t").tabs_in_cells(len(rows[0]))
    assert not Lines.of_file(plain, 1, delimiter="\t").odd_bytes


def test_a_pinned_delimiter_is_the_only_one_tried(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "layouts").mkdir(parents=True)
    pinned = load_layout("registry")
    text = (Path(__file__).resolve().parents[2] / "bad_inputs/files/line_endings_lf.csv").read_text("utf-8")
    path = tmp_path / "registry_320500_20231031.csv"
    path.write_text(text, encoding="utf-8")
    from dataclasses import replace

    load = parse_file(
        path, path.name, replace(pinned, delimiter=","), DATE, tmp_path / "a", tmp_path / "b", "-"
    )
    assert (load.rows_loaded, load.delimiter) == (2, "comma")
    with pytest.raises(ExportError, match=r"first 30 rows \(tab-separated\); expected headers"):
        parse_file(
            path, path.name, replace(pinned, delimiter="\t"), DATE, tmp_path / "c", tmp_path / "d", "-"
        )


def test_utf16_without_a_byte_order_mark_is_refused_by_name(shared, tmp_path):
    rows = read_rows(shared / REAL_REGISTRATIONS)
    path = tmp_path / "civil_affairs_5x_2023.txt"
    path.write_bytes(delimited(rows, "\t", "\r\n").encode("utf-16-le"))
    with pytest.raises(
        ExportError, match="civil_affairs_5x_2023.txt: .*it looks like UTF-16 text without a byte-order mark"
    ):
        parse_file(
            path, path.name, layout_for("registry", path.name), DATE, tmp_path / "a", tmp_path / "b", "-"
        )


def test_socorg_inspect_says_which_delimiter_and_encoding_it_found(shared, tmp_path, capsys):
    from ingest.cli import main

    rows = read_rows(shared / REAL_REGISTRATIONS)
    path = tmp_path / "civil_affairs_5x_2023.txt"
    path.write_bytes(unicode_text(rows))
    assert main(["inspect", str(path), "--source", "registry"]) == 0
    said = capsys.readouterr().out
    assert "  encoding:   utf-16\n  delimiter:  tab (detected)\n" in said
    assert "rows:       75 read, 74 would load, 1 quarantined" in said
