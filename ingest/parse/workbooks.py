"""Spreadsheet exports (.xlsx, .xlsm, .xls, .ods) read with calamine: every row from A1 whatever the
workbook's dimension record says, and .xlsx/.xlsm formula cells marked so their values are not data."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import unescape

from ingest.common.errors import ExportError

ZIPPED = ("xlsx", "xlsm", "ods")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and how Office stores an encrypted workbook
MAX_UNPACKED = 4 << 30
MAX_RATIO = 200
_CHUNK = 1 << 22
WHOLE_LIMIT = 2**53
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
# A cell element with content (not `<c r="A1"/>`), in any namespace prefix; its formula, if any.
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?<!/)>(.*?)</(?:\w+:)?c>", re.S)
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_HAS_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ROW_END = re.compile(rb"</(?:\w+:)?row>")


class Formula(str):
    """A spreadsheet cell holding a formula: its value is not data we can trust or recompute."""


def _kind(path: Path) -> str:
    return path.suffix.lower().lstrip(".")


def check_workbook(path: Path) -> None:
    """Refuse, before opening it, a password-protected workbook and a zipped one that would decompress
    to far more than it weighs."""
    with path.open("rb") as fh:
        head = fh.read(len(OLE2_MAGIC))
    if _kind(path) in ZIPPED and head == OLE2_MAGIC:
        raise ExportError(
            path.name,
            "is password-protected (an encrypted workbook): save it again without a password to load it",
        )
    if _kind(path) not in ZIPPED:
        return
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExportError(
            path.name, f"is not a readable .{_kind(path)} workbook (truncated or damaged: {exc})"
        ) from None
    packed = max(path.stat().st_size, 1)
    if unpacked > MAX_UNPACKED or (unpacked > 16 << 20 and unpacked > MAX_RATIO * packed):
        raise ExportError(
            path.name,
            f"would decompress to {unpacked >> 20} MiB from {packed >> 10} KiB "
            f"(more than {MAX_RATIO}x or {MAX_UNPACKED >> 20} MiB); refused",
        )


def workbook_rows(path: Path, sheet: int | str) -> Iterator[list[object]]:
    """The sheet's rows from row 1 and column A, cells typed as openpyxl types them (whole numbers
    as int, dates as datetime, empty cells as None); a cell with a formula is a Formula."""
    from python_calamine import CalamineWorkbook, PasswordError

    check_workbook(path)
    unreadable = f"is not a readable .{_kind(path)} workbook"
    try:
        book = CalamineWorkbook.from_path(str(path))
        if not isinstance(sheet, int) and sheet not in book.sheet_names:
            raise ExportError(path.name, f"has no sheet named {sheet!r}")
        index = sheet if isinstance(sheet, int) else book.sheet_names.index(sheet)
        grid = book.get_sheet_by_index(index)
    except ExportError:
        raise
    except PasswordError:
        raise ExportError(path.name, "is password-protected: save it again without a password") from None
    except Exception as exc:  # calamine raises its own kinds for a damaged workbook
        raise ExportError(path.name, f"{unreadable} ({exc})") from None
    formulas = _formula_cells(path, index) if _kind(path) in ("xlsx", "xlsm") else {}
    # calamine yields rows from row 1 but columns from the first one used: pad them back to column A.
    pad = [None] * (grid.start[1] if grid.start else 0)
    number = 0
    try:
        for number, row in enumerate(grid.iter_rows(), start=1):
            yield _with_formulas([*pad, *map(_value, row)], formulas.get(number, ()))
        for later in range(number + 1, max(formulas, default=0) + 1):  # formulas without a value
            yield _with_formulas([], formulas.get(later, ()))
    except Exception as exc:  # a damaged sheet fails while it is read, not when it is opened
        raise ExportError(path.name, f"{unreadable} ({exc})") from None
    finally:
        book.close()


def _with_formulas(cells: list[object], formulas) -> list[object]:
    for column, formula in formulas:
        cells += [None] * (column + 1 - len(cells))
        cells[column] = formula
    return cells


def _value(cell: object) -> object:
    """A calamine cell as openpyxl gives it: '' is None, a whole float an int (below 2**53, where a
    float still holds every digit: a longer code typed as a number stays the float it is), a date a
    datetime."""
    if cell == "":
        return None
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < WHOLE_LIMIT:
        return int(cell)
    if isinstance(cell, dt.date) and not isinstance(cell, dt.datetime):
        return dt.datetime.combine(cell, dt.time())
    return cell


def _formula_cells(path: Path, index: int) -> dict[int, list[tuple[int, Formula]]]:
    """{row number: [(column index, Formula("=…"))]} of the sheet's formula cells (calamine reads
    only their cached values). Read from the sheet's XML in chunks that end at a row's end."""
    found: dict[int, list[tuple[int, Formula]]] = {}
    with zipfile.ZipFile(path) as archive:
        part = _sheet_part(archive, index)
        if part is None:
            return found
        with archive.open(part) as fh:
            rest = b""
            while chunk := fh.read(_CHUNK):
                xml = rest + chunk
                cut = max((end.end() for end in _ROW_END.finditer(xml)), default=0)
                _scan(xml, cut, found)
                rest = xml[cut:]
            _scan(rest, len(rest), found)
    return found


def _scan(xml: bytes, end: int, found: dict[int, list[tuple[int, Formula]]]) -> None:
    if not _HAS_FORMULA.search(xml, 0, end):
        return
    for cell in _CELL.finditer(xml, 0, end):
        formula, ref = _FORMULA.search(cell.group(2)), _REF.search(cell.group(1))
        if formula and ref:
            column = 0
            for letter in ref.group(1):
                column = column * 26 + letter - 64
            text = unescape((formula.group(1) or b"").decode("utf-8"), {"&quot;": '"', "&apos;": "'"})
            found.setdefault(int(ref.group(2)), []).append((column - 1, Formula("=" + text)))


def _sheet_part(archive: zipfile.ZipFile, index: int) -> str | None:
    """The zip member of the workbook's index-th sheet, from workbook.xml and its relationships."""
    try:
        sheets = ET.fromstring(archive.read("xl/workbook.xml")).findall("m:sheets/m:sheet", _NS)
        rel_id = sheets[index].get(f"{{{_NS['r']}}}id")
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, IndexError, ET.ParseError):
        return None
    for rel in rels.findall("rel:Relationship", _NS):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
    return None
