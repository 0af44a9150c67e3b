"""Write one sample export the way other systems do: .csv in three encodings or .xlsx, titles, footers."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("xlsx", "utf-8", "utf-8-sig", "gb18030")
FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


@dataclass
class ExportTable:
    """An export's content: spelled headers, rows of cells, and the decorations around them."""

    file_name: str
    headers: list[str]
    fmt: str
    title: str | None = None
    footer: str | None = None
    rows: list[list[object]] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)

    @property
    def first_data_row(self) -> int:
        """The 1-based row number of the first data row in the written file."""
        return 3 if self.title else 2

    def add(self, cells: list[object], bad_reason: str | None = None) -> None:
        """Append a row; a bad row records the quarantine reason the pipeline must give it."""
        if bad_reason:
            self.bad.append((len(self.rows), bad_reason))
        self.rows.append(cells)

    def insert(self, position: int, cells: list[object], bad_reason: str) -> None:
        """Insert a bad row at a position, keeping the recorded positions of others right."""
        self.bad = [(i + 1 if i >= position else i, r) for i, r in self.bad]
        self.bad.append((position, bad_reason))
        self.rows.insert(position, cells)

    def bad_rows(self) -> list[tuple[int, str]]:
        """(row number in the written file, reason) of every bad row."""
        return sorted((self.first_data_row + i, r) for i, r in self.bad)


def write_export(table: ExportTable, folder: Path) -> Path:
    """Write the table under folder, in its format; return the path."""
    if table.fmt not in FORMATS:
        raise ValueError(f"unknown sample format {table.fmt!r}; expected one of {FORMATS}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / table.file_name
    lines: list[list[object]] = []
    if table.title:
        lines.append([table.title])
    lines.append(table.headers)
    lines.extend(table.rows)
    if table.footer:
        lines.append([table.footer.format(n=len(table.rows))])
    if table.fmt == "xlsx":
        _write_xlsx(path, lines)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows([["" if v is None else v for v in line] for line in lines])
        path.write_bytes(buffer.getvalue().encode(table.fmt))
    return path


def _write_xlsx(path: Path, lines: list[list[object]]) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    for line in lines:
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_without_timestamps(buffer.getvalue()))


def _without_timestamps(xlsx: bytes) -> bytes:
    """Re-zip a workbook with fixed times so that the same seed gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2000-01-01T00:00:00Z", data)
            target.writestr(zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()
