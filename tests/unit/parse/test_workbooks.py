"""Reading spreadsheets (ingest.parse.workbooks): every row whatever the dimension record says, cells
typed as before, formula cells marked."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import pytest

from ingest.common.errors import ExportError
from ingest.parse.workbooks import Formula, workbook_rows


def _without_dimension(path):
    """The workbook as exchanges publish it: no <dimension> record in its sheet."""
    stripped = path.with_name("no_dimension_" + path.name)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
            target.writestr(item, data)
    return stripped


def test_a_sheet_without_a_dimension_record_reads_every_row(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["代码", "名称"])
    for k in range(1, 51):
        sheet.append([f"{k:06d}", f"公司{k}"])
    book.save(tmp_path / "list.xlsx")
    path = _without_dimension(tmp_path / "list.xlsx")
    assert b"<dimension" not in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    rows = list(workbook_rows(path, 0))
    assert len(rows) == 51 and rows[-1] == ["000050", "公司50"]


def test_the_stock_exchanges_own_workbook_reads_whole(shared):
    """SZSE's A股列表 has no dimension record: openpyxl's read-only mode read it as one row."""
    rows = list(workbook_rows(shared / "data" / "real-listings" / "szse_a_share_list.xlsx", 0))
    assert len(rows) > 2800
    assert rows[0][:2] == ["板块", "公司全称"] and rows[1][4:6] == ["000001", "平安银行"]
    assert all(len(r) == len(rows[0]) for r in rows)


def test_cells_start_at_a1_and_keep_their_types(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["C3"] = "名称"
    sheet["D4"] = 7
    sheet["C5"] = 0.5
    sheet["D5"] = dt.datetime(2021, 3, 4)
    sheet["E5"] = 513205001234567808  # an 18-digit code typed as a number keeps being a float
    book.save(tmp_path / "offset.xlsx")
    rows = list(workbook_rows(tmp_path / "offset.xlsx", 0))
    assert rows[0] == [None] * 5 and rows[1] == [None] * 5  # padded to column A, as wide as the sheet
    assert rows[2][2] == "名称" and rows[3][3] == 7 and isinstance(rows[3][3], int)
    assert rows[4][2:5] == [0.5, dt.datetime(2021, 3, 4), 5.132050012345678e17]
    assert isinstance(rows[4][4], float)


def test_formula_cells_are_marked_with_their_formula(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["名称", "数量"])
    sheet.append(['=A1&"协会"', 3])
    sheet["B5"] = "=SUM(B2:B3)"  # a formula below the last cell that holds a value
    book.save(tmp_path / "formulas.xlsx")
    rows = list(workbook_rows(tmp_path / "formulas.xlsx", 0))
    assert rows[1][0] == '=A1&"协会"' and isinstance(rows[1][0], Formula) and rows[1][1] == 3
    assert len(rows) == 5 and rows[4][1] == "=SUM(B2:B3)" and isinstance(rows[4][1], Formula)
    assert not any(isinstance(v, Formula) for v in rows[0])


def test_a_named_sheet_that_is_not_there_is_said(tmp_path):
    openpyxl.Workbook().save(tmp_path / "book.xlsx")
    with pytest.raises(ExportError, match="book.xlsx: has no sheet named '名录'"):
        list(workbook_rows(tmp_path / "book.xlsx", "名录"))
