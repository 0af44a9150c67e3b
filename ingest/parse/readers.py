"""Streaming readers for export files: encoding detection, header search, footers."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.common.errors import ExportError
from ingest.parse.cells import footer_line, text
from ingest.parse.workbooks import SPREADSHEETS, workbook_rows
from ingest.rules.layouts import Column, Layout, header_key
from ingest.rules.personal import mask

HEADER_SEARCH_ROWS = 30
SNIFF_BYTES = 1 << 20
MAX_CELL = 16 << 20
csv.field_size_limit(MAX_CELL)


def detect_encoding(path: Path, candidates: tuple[str, ...]) -> str:
    """Pick the first candidate encoding that decodes the head of the file; never guess silently."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            decoder.decode(head, final=len(head) < SNIFF_BYTES)
        except UnicodeDecodeError:
            continue
        return encoding
    for encoding in candidates:  # whole but for its last bytes: a character cut in two by the upload
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        raise _incomplete(path.name, f"it ends inside a {encoding} character")
    raise ExportError(path.name, f"cannot be decoded as any of {', '.join(candidates)}")


TAIL_BYTES = 1 << 16


def _incomplete(name: str, how: str) -> ExportError:
    return ExportError(
        name,
        f"incomplete: {how} — still being written when it was landed? Deliver it again whole; the next "
        "run lands the new version",
    )


def check_complete(path: Path, encoding: str, width: int, name: str) -> None:
    """Refuse a CSV whose last line is cut: no line end and either a character cut in two or fewer
    fields than the header (a file without a final line end is otherwise fine)."""
    codec = encoding.removesuffix("-sig")
    with path.open("rb") as fh:
        if codec == "utf-16":  # the tail has no byte-order mark: take the file's
            codec = "utf-16-be" if fh.read(2) == codecs.BOM_UTF16_BE else "utf-16-le"
        size, want = path.stat().st_size, TAIL_BYTES
        while True:  # back far enough to hold the last line whole (a cell is at most MAX_CELL)
            start = max(0, size - want) & ~1
            fh.seek(start)
            tail = fh.read()
            if not start or "\n".encode(codec) in tail[:-2] or want > MAX_CELL:
                break
            want *= 4
    if not tail or tail.endswith(("\n".encode(codec), "\r".encode(codec))):
        return
    if start:  # the tail starts inside the file: read it from a line boundary
        tail = tail.split("\n".encode(codec), 1)[-1]
    try:
        text_tail = tail.decode(codec)
    except UnicodeDecodeError:
        raise _incomplete(name, f"its last line ends inside a {encoding} character") from None
    try:
        records = list(csv.reader(io.StringIO(text_tail, newline=""), strict=True))
    except csv.Error:
        raise _incomplete(
            name, "its last line has no line end and a quoted cell that is never closed"
        ) from None
    last = records[-1] if records else []
    filled = [f for f in last if f.strip()]
    # A footer line (合计：7724, 制表人：… 审核人：…) is not a record cut short.
    if len(last) < width and len(filled) > 1 and not footer_line(filled)[0]:
        raise _incomplete(
            name, f"its last line has no line end and {len(last)} of the header's {width} fields"
        )


def _csv_rows(path: Path, layout: Layout) -> tuple[str, Iterator[list[object]]]:
    encoding = detect_encoding(path, layout.encodings)

    def rows() -> Iterator[list[object]]:
        with path.open("r", encoding=encoding, errors="strict", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            try:
                yield from reader
            except UnicodeDecodeError as exc:
                raise ExportError(
                    path.name, f"is not valid {encoding} after line {reader.line_num} ({exc.reason})"
                ) from None
            except csv.Error as exc:
                raise ExportError(path.name, _csv_problem(exc, reader.line_num)) from None

    return encoding, rows()


def _csv_problem(exc: csv.Error, line: int) -> str:
    """What a CSV reader's error means for the person who sent the file."""
    if "field larger than field limit" in str(exc):
        return (
            f"has a cell of more than {MAX_CELL >> 20} MiB at line {line}: no export holds cells that long "
            "(a quote opened and never closed, or a binary file named .csv?)"
        )
    if "unexpected end of data" in str(exc):
        return f"is not well-formed CSV at line {line}: a quoted cell is never closed (cut off mid-row?)"
    return f"is not well-formed CSV at line {line}: {exc}"


@dataclass
class ExportFile:
    """An export opened for reading: its header position, column map and, once read, its footer."""

    name: str
    encoding: str
    header_row: int
    width: int
    headers: list[str]
    columns: list[tuple[int, Column]]
    unknown_headers: list[str]
    rows_iter: Iterator[tuple[int, list[object]]]
    footer_total: int | None = None
    footer_rows: int = 0
    blank_rows: int = 0

    @property
    def title_rows(self) -> int:
        return self.header_row - 1

    def records(self) -> Iterator[tuple[int, dict[str, object], str | None]]:
        """Yield (row number in the file, {canonical column: cell}, row problem or None).

        Footer lines (cells.footer_line) are not records: a total wherever it stands, signatures, dates
        and notes once no data row follows them. Such a line with data below is quarantined as
        `footer_line_inside_data` without its cells: they may name a person or a phone."""
        held: list[tuple[int, list[object]]] = []
        for number, cells in self.rows_iter:
            values = [text(c) if isinstance(c, str) else c for c in cells]
            filled = [v for v in values if v not in (None, "")]
            if not filled:
                self.blank_rows += 1
                continue
            is_footer, total = footer_line(filled)
            if is_footer and total is not None:
                self.footer_total = total
                self.footer_rows += 1
                continue
            if is_footer:
                held.append((number, cells))
                continue
            for line, _ in held:  # signature-like lines with data below: quarantined, their cells unkept
                yield line, {col.name: None for _, col in self.columns}, "footer_line_inside_data"
            held.clear()
            yield number, {col.name: _cell(cells, idx) for idx, col in self.columns}, self._problem(cells)
        self.footer_rows += len(held)

    def _problem(self, cells: list[object]) -> str | None:
        """What is wrong with a row as a whole: cut short, too long (CSV only), NUL characters."""
        if self.encoding not in SPREADSHEETS:
            if len(cells) < self.width:
                return "row_too_short"
            if any(c not in (None, "") for c in cells[self.width :]):
                return "row_too_long"
        if any(isinstance(c, str) and "\x00" in c for c in cells):
            return "cell_contains_nul"
        return None


def _cell(cells: list[object], idx: int) -> object:
    return cells[idx] if idx < len(cells) else None


def open_export(path: Path, layout: Layout, name: str | None = None) -> ExportFile:
    """Open an export, find its header row below any title rows and map headers to columns.

    `name` is the file's name as exported (a landed re-delivery may carry a version suffix).
    """
    name = name or path.name
    kind = path.suffix.lower().lstrip(".")
    if kind in SPREADSHEETS:
        encoding, raw = kind, workbook_rows(path, layout.sheet)
    elif kind == "csv":
        encoding, raw = _csv_rows(path, layout)
    else:
        raise ExportError(name, f"has an extension other than .csv, .{', .'.join(SPREADSHEETS)}")
    numbered = enumerate(raw, start=1)
    seen: list[list[str]] = []
    for number, cells in numbered:
        headers = [header_key(text(c) or "") for c in cells]
        columns = [(i, layout.column_for_header(h)) for i, h in enumerate(headers)]
        known = [(i, c) for i, c in columns if c is not None]
        ignored = layout.ignored_keys()
        # The header names at least two columns the layout knows (mapped, or ignored such as 序号).
        if known and len(known) + sum(h in ignored for h in headers if h) >= 2:
            if encoding not in SPREADSHEETS:
                check_complete(path, encoding, len(headers), name)
            return _header_found(name, layout, encoding, number, headers, known, numbered)
        seen.append((number, [h for h in headers if h]))
        if number >= HEADER_SEARCH_ROWS:
            break
    if not seen:
        raise ExportError(name, "is empty: no header row and no data")
    expected = ", ".join(c.aliases[0] for c in layout.columns if c.required)
    found = _shown_rows([(k, r) for k, r in seen if r][:3]) or "nothing"
    raise ExportError(
        name,
        f"has no recognizable header row in its first {HEADER_SEARCH_ROWS} rows; "
        f"expected headers such as {expected}; found: {found}",
    )


def _shown_rows(rows: list[tuple[int, list[str]]]) -> str:
    """The first rows of a file whose header nobody knows, for a message: they may be data (names,
    phone numbers), so only the first row is shown as it is, and only when no cell holds a digit (a
    header or a title); every other cell is masked.

    >>> _shown_rows([(1, ["编号", "单位"]), (2, ["1", "黄小明", "15412346152"])])
    'row 1: 编号,单位 | row 2: 1,黄**,154****6152'
    """
    shown = []
    for k, (number, cells) in enumerate(rows):
        header_like = k == 0 and not any(ch.isdigit() for cell in cells for ch in cell)
        shown.append(f"row {number}: " + ",".join(cells if header_like else map(mask, cells)))
    return " | ".join(shown)


def _header_found(name, layout, encoding, number, headers, known, numbered) -> ExportFile:
    names = [c.name for _, c in known]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        spelled = [headers[i] for i, c in known if c.name in duplicated]
        raise ExportError(
            name,
            f"has more than one column for {', '.join(duplicated)} (headers {', '.join(spelled)})",
        )
    missing = [c for c in layout.columns if c.required and c.name not in names]
    if missing:
        wanted = "; ".join(f"{c.name} ({' / '.join(c.aliases)})" for c in missing)
        raise ExportError(
            name,
            f"lacks required column {wanted}; header row {number} has: {', '.join(h for h in headers if h)}",
        )
    known_idx = {i for i, _ in known}
    unknown = [
        h for i, h in enumerate(headers) if h and i not in known_idx and h not in layout.ignored_keys()
    ]
    return ExportFile(
        name=name,
        encoding=encoding,
        header_row=number,
        width=len(headers),
        headers=headers,
        columns=known,
        unknown_headers=unknown,
        rows_iter=numbered,
    )
