"""Streaming readers for export files: encoding detection, header search, footers."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.common.errors import ExportError
from ingest.parse.cells import Parts, Scaled, footer_line, text
from ingest.parse.workbooks import workbook_rows
from ingest.rules.formats import DELIMITER_NAMES, SPREADSHEETS, TEXT_FORMATS, TRY_ORDER, extension
from ingest.rules.layouts import TITLE_UNIT, Column, Layout, header_key, unit_scale
from ingest.rules.personal import mask
from ingest.rules.typing_rules import TITLE_WORDS, title_label

HEADER_SEARCH_ROWS = 30
# The header pandas gives a row index it writes as a column (`to_csv` of a frame read back): like a
# column without a header, a row number, not data.
ROW_INDEX_HEADER = re.compile(r"^Unnamed:\d+$")
SNIFF_BYTES = 1 << 20
MAX_CELL = 16 << 20
csv.field_size_limit(MAX_CELL)


def detect_encoding(path: Path, candidates: tuple[str, ...]) -> str:
    """Pick the first candidate encoding that decodes the head of the file; never guess silently.

    UTF-16 (Excel's "Unicode text") is read by its byte-order mark; without one it is refused, named,
    rather than read as something else."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _looks_like_utf16(head):
        raise ExportError(path.name, UTF16_NO_BOM)
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
    if _decodes_as_utf16(head):
        raise ExportError(path.name, f"cannot be decoded as any of {', '.join(candidates)}; {UTF16_NO_BOM}")
    raise ExportError(path.name, f"cannot be decoded as any of {', '.join(candidates)}")


UTF16_NO_BOM = (
    "it looks like UTF-16 text without a byte-order mark: save it again as UTF-8, or as Excel's Unicode "
    "text (UTF-16 with its byte-order mark)"
)


def _looks_like_utf16(head: bytes) -> bool:
    """A quarter of the head's even or odd bytes are NUL, as in UTF-16 text of ASCII (digits, codes)."""
    sample = head[:4096]
    quarter = len(sample) // 8
    return len(sample) >= 64 and max(sample[0::2].count(0), sample[1::2].count(0)) > quarter


def _decodes_as_utf16(head: bytes) -> bool:
    """The head reads as UTF-16 text of several lines."""
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            decoded = head[: len(head) & ~1].decode(codec)
        except UnicodeDecodeError:
            continue
        if decoded.count("\n") >= 2:
            return True
    return False


TAIL_BYTES = 1 << 16


def _incomplete(name: str, how: str) -> ExportError:
    return ExportError(
        name,
        f"incomplete: {how} — still being written when it was landed? Deliver it again whole; the next "
        "run lands the new version",
    )


def check_complete(path: Path, encoding: str, width: int, name: str, delimiter: str = ",") -> None:
    """Refuse a text export whose last line is cut: no line end and either a character cut in two or
    fewer fields than the header (a file without a final line end is otherwise fine)."""
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
        records = list(csv.reader(io.StringIO(text_tail, newline=""), delimiter=delimiter, strict=True))
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


def _text_rows(path: Path, encoding: str, delimiter: str) -> Iterator[list[object]]:
    """The rows of a delimited text export, as the csv module reads them with `delimiter`."""

    def rows() -> Iterator[list[object]]:
        with path.open("r", encoding=encoding, errors="strict", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            try:
                yield from reader
            except UnicodeDecodeError as exc:
                raise ExportError(
                    path.name, f"is not valid {encoding} after line {reader.line_num} ({exc.reason})"
                ) from None
            except csv.Error as exc:
                raise ExportError(path.name, _csv_problem(exc, reader.line_num)) from None

    return rows()


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
    delimiter: str | None = None  # a text export's; None for a spreadsheet
    titles: list[str] = field(default_factory=list)  # the lines above the header, each cells joined
    scales: dict[int, int] = field(default_factory=dict)  # a money column's unit in 元, by position

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
            yield number, self._cells(cells), self._problem(cells)
        self.footer_rows += len(held)

    def _cells(self, cells: list[object]) -> dict[str, object]:
        """{canonical column: cell}; a money cell under a stated unit Scaled, a `sum` column's cells Parts."""
        out: dict[str, object] = {}
        for idx, col in self.columns:
            cell = _cell(cells, idx)
            if idx in self.scales and cell not in (None, ""):
                cell = Scaled(cell, self.scales[idx])
            out[col.name] = (
                Parts((*out[col.name], cell))
                if col.sum and col.name in out
                else (Parts((cell,)) if col.sum else cell)
            )
        return out

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

    A text export's delimiter is the layout's, else the one whose reading finds the header naming the
    most columns the layout knows (rules.formats.TRY_ORDER). `name` is the file's name as exported (a
    landed re-delivery may carry a version suffix).
    """
    name = name or path.name
    kind = extension(path.name)
    if kind in SPREADSHEETS:
        numbered = enumerate(workbook_rows(path, layout.sheet), start=1)
        found, seen = _search_header(layout, numbered)
        if found:
            return _header_found(name, layout, kind, *found, numbered)
        raise _no_header(name, layout, seen)
    if kind not in TEXT_FORMATS:
        raise ExportError(name, f"has an extension other than .{', .'.join((*TEXT_FORMATS, *SPREADSHEETS))}")
    encoding = detect_encoding(path, layout.encodings)
    tried = [layout.delimiter] if layout.delimiter else TRY_ORDER[kind]
    best, first_seen, problem = None, None, None
    for delimiter in tried:
        numbered = enumerate(_text_rows(path, encoding, delimiter), start=1)
        try:
            found, seen = _search_header(layout, numbered)
        except ExportError as exc:  # this delimiter reads a quote wrong: another may read it right
            problem = problem or exc
            continue
        first_seen = first_seen if first_seen is not None else seen
        if found and (best is None or len(found[2]) > len(best[1][2])):
            best = (delimiter, found)
            if _all_known(layout, found[1]):
                break  # every header is a column the layout knows: no other reading can do better
    if best is None:
        if first_seen is None and problem:
            raise problem
        how = f"{DELIMITER_NAMES[tried[0]]}-separated" if layout.delimiter else _tried(tried)
        raise _no_header(name, layout, first_seen or [], how)
    delimiter, (number, headers, known, titles) = best
    check_complete(path, encoding, len(headers), name, delimiter)
    numbered = enumerate(_text_rows(path, encoding, delimiter), start=1)
    for row_number, _ in numbered:  # on to the row after the header
        if row_number == number:
            break
    export = _header_found(name, layout, encoding, number, headers, known, titles, numbered)
    export.delimiter = delimiter
    return export


def _tried(delimiters) -> str:
    """`read as comma-, tab-, semicolon- and pipe-separated text`, for a message."""
    names = [DELIMITER_NAMES[d] for d in delimiters]
    return f"read as {', '.join(f'{n}-' for n in names[:-1])} and {names[-1]}-separated text"


def _all_known(layout: Layout, headers: list[str]) -> bool:
    return all(not h or layout.column_for_header(h) or h in layout.ignored_keys() for h in headers)


def _search_header(layout: Layout, numbered) -> tuple[tuple | None, list[tuple[int, list[str]]]]:
    """The header among the first HEADER_SEARCH_ROWS rows — (row number, headers, known columns) — or
    None, and the rows seen above it."""
    seen: list[tuple[int, list[str]]] = []
    ignored = layout.ignored_keys()
    for number, cells in numbered:
        headers = [header_key(text(c) or "") for c in cells]
        known = [(i, c) for i, h in enumerate(headers) if (c := layout.column_for_header(h)) is not None]
        # The header names at least two columns the layout knows (mapped, or ignored such as 序号).
        if known and len(known) + sum(h in ignored for h in headers if h) >= 2:
            return (number, headers, known, ["".join(r) for _, r in seen]), seen
        seen.append((number, [h for h in headers if h]))
        if number >= HEADER_SEARCH_ROWS:
            break
    return None, seen


def _no_header(name: str, layout: Layout, seen: list[tuple[int, list[str]]], how: str = "") -> ExportError:
    if not seen:
        return ExportError(name, "is empty: no header row and no data")
    expected = ", ".join(c.aliases[0] for c in layout.columns if c.required)
    found = _shown_rows([(k, r) for k, r in seen if r][:3]) or "nothing"
    read = f" ({how})" if how else ""
    return ExportError(
        name,
        f"has no recognizable header row in its first {HEADER_SEARCH_ROWS} rows{read}; "
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


def _column_with_alternatives(layout: Layout, column: Column) -> str:
    """`credit_code (统一社会信用代码 / 信用代码) or organization_code (组织机构代码)`, for a message; a
    title_column's alternative, a title line naming it."""
    others = [c for c in layout.columns if c.name in column.unless]
    said = " or ".join(f"{c.name} ({' / '.join(c.aliases)})" for c in [column, *others])
    if column.name == layout.title_column:
        words = " / ".join(word for word, _ in TITLE_WORDS.get(column.type, ()))
        said += f" or a title line above the header naming it ({words})"
    return said


def _header_found(name, layout, encoding, number, headers, known, titles, numbered) -> ExportFile:
    names = [c.name for _, c in known]
    duplicated = sorted({n for n in names if names.count(n) > 1 and not layout.column(n).sum})
    if duplicated:
        spelled = [headers[i] for i, c in known if c.name in duplicated]
        raise ExportError(
            name,
            f"has more than one column for {', '.join(duplicated)} (headers {', '.join(spelled)})",
        )
    titled = {c.name for c in layout.columns if c.name == layout.title_column and title_label(c.type, titles)}
    missing = [
        c
        for c in layout.columns
        if c.required and c.name not in names and not set(c.unless) & set(names) and c.name not in titled
    ]
    if missing:
        wanted = "; ".join(_column_with_alternatives(layout, c) for c in missing)
        raise ExportError(
            name,
            f"lacks required column {wanted}; header row {number} has: {', '.join(h for h in headers if h)}",
        )
    known_idx = {i for i, _ in known}
    unknown = [
        h
        for i, h in enumerate(headers)
        if h and i not in known_idx and h not in layout.ignored_keys() and not ROW_INDEX_HEADER.match(h)
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
        titles=titles,
        scales=_money_scales(headers, known, titles),
    )


def _money_scales(headers: list[str], known: list[tuple[int, Column]], titles: list[str]) -> dict[int, int]:
    """The unit of each money column not in 元: its header's (`收入合计（万元）`), else a title line's
    (`单位：万元`)."""
    stated = next((scale for t in titles if (scale := unit_scale(t, TITLE_UNIT))), 1)
    scales = {i: unit_scale(headers[i]) or stated for i, c in known if c.type == "money"}
    return {i: scale for i, scale in scales.items() if scale != 1}
