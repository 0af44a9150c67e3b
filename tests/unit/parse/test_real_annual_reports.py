"""Real annual-report figures (../shared/data/real-annual-reports: a research catalog's 业务活动表) load
through a site layout whose amounts are each the sum of a restricted and an unrestricted column, as the
catalog delivers them and as an office saves them again (a workbook, GB18030 text, amounts in 万元)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.parse.files import parse_file
from ingest.rules.layouts import layout_for

SAMPLE = "ricf_2013_financial_activities.sample.tsv"
SITE = Path(__file__).resolve().parents[2] / "sites" / "ricf"
DATE = dt.date(2024, 3, 1)
# The marts' columns and the catalog's parts (…e restricted, …u unrestricted), from its bilingual header
# (../shared/data/real-annual-reports/README.md), written here apart from the layout under test.
PARTS = {
    "donation_income": ("fa_dine", "fa_dinu"),
    "membership_dues": ("fa_asine", "fa_asinu"),
    "service_income": ("fa_sine", "fa_sinu"),
    "sales_income": ("fa_pine", "fa_pinu"),
    "government_income": ("fa_gine", "fa_ginu", "fa_gse", "fa_gsu"),
    "investment_income": ("fa_inine", "fa_ininu"),
    "other_income": ("fa_otine", "fa_otinu"),
    "income_total": ("fa_intoe", "fa_intou"),
    "programme_expense": ("fa_accoe", "fa_accou"),
    "admin_expense": ("fa_adexe", "fa_adexu"),
    "fundraising_expense": ("fa_fuexe", "fa_fuexu"),
    "other_expense": ("fa_otexe", "fa_otexu"),
    "expense_total": ("fa_cotoe", "fa_cotou"),
}


@pytest.fixture(scope="module")
def original(shared) -> tuple[Path, list[dict]]:
    path = shared / "data" / "real-annual-reports" / SAMPLE
    with path.open(encoding="utf-8", newline="") as fh:
        return path, list(csv.DictReader(fh, delimiter="\t"))


def expected(row: dict, scale: int = 1) -> dict:
    """A row's amounts in 元 as the parts add up (empty parts are nothing; all empty: null)."""
    out = {}
    for column, parts in PARTS.items():
        values = [Decimal(row[p]) for p in parts if row[p] != ""]
        out[column] = (sum(values, Decimal(0)) * scale).quantize(Decimal("0.01")) if values else None
    return out


def parsed(path: Path, name: str, tmp_path: Path, monkeypatch) -> tuple[object, list[dict]]:
    monkeypatch.setenv("SOCORG_SITE", str(SITE))
    layout = layout_for("annual_reports", name)
    assert layout is not None and layout.name == "annual_reports_ricf"
    load = parse_file(path, name, layout, DATE, tmp_path / "raw", tmp_path / "quarantine", "-")
    return load, pq.read_table(tmp_path / "raw" / f"{name.rsplit('.', 1)[0]}.parquet").to_pylist()


def test_the_catalogs_file_as_it_is_loads_every_foundation_with_its_parts_added(
    original, tmp_path, monkeypatch
):
    path, rows = original
    load, loaded = parsed(path, SAMPLE, tmp_path, monkeypatch)
    assert (load.rows_read, load.rows_loaded, load.rows_quarantined, load.unknown_headers) == (40, 40, 0, [])
    assert [r["credit_code"] for r in loaded] == [r["ba_uscc"] for r in rows]
    assert {r["report_year"] for r in loaded} == {2013}
    for got, row in zip(loaded, rows, strict=True):
        assert {c: got[c] for c in PARTS} == expected(row), row["ba_cn"]
    vanke = next(r for r in loaded if r["org_name"] == "万科公益基金会")
    assert vanke["donation_income"] == Decimal("4660319.19")  # 2,722,959.19 restricted + 1,937,360 not
    assert any(r[c] is not None and r[c] < 0 for r in loaded for c in PARTS)  # a negative amount kept


def test_saved_again_as_a_workbook_in_gb18030_and_in_wan_yuan_it_loads_the_same(
    original, tmp_path, monkeypatch
):
    import xlsxwriter

    path, rows = original
    header = list(rows[0])
    book_path = tmp_path / "ricf_2013_financial_activities.xlsx"
    book = xlsxwriter.Workbook(str(book_path))
    sheet = book.add_worksheet()
    for c, name in enumerate(header):
        sheet.write(0, c, name)
    for r, row in enumerate(rows, start=1):
        for c, name in enumerate(header):
            value = row[name]
            if name.startswith("fa_") and value != "":
                sheet.write_number(r, c, float(value))
            elif value != "":
                sheet.write_string(r, c, value)
    book.close()
    gb = tmp_path / "ricf_2013_financial_activities.csv"
    gb.write_bytes(path.read_text(encoding="utf-8").replace("\t", ",").encode("gb18030"))
    # The same figures in 万元, said by a line above the header as offices write it.
    wan = tmp_path / "ricf_2013_financial_activities_wan.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    scaled = [
        "\t".join(
            str(Decimal(v) / 10000) if h.startswith("fa_") and v else v
            for h, v in zip(header, line.split("\t"), strict=True)
        )
        for line in lines[1:]
    ]
    wan.write_text("\n".join(["单位：万元", lines[0], *scaled]) + "\n", encoding="utf-8")
    for saved in (book_path, gb, wan):
        out = tmp_path / saved.suffix.lstrip(".")
        copy = out / saved.name
        out.mkdir()
        shutil.copy(saved, copy)
        load, loaded = parsed(copy, saved.name, out, monkeypatch)
        assert (load.rows_loaded, load.rows_quarantined) == (40, 0), saved.name
        for got, row in zip(loaded, rows, strict=True):
            assert {c: got[c] for c in PARTS} == expected(row), (saved.name, row["ba_cn"])
