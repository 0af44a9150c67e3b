"""Counting a CSV file's physical lines and its footer, and finding bytes the plain query cannot trim."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from ingest.parse.cells import footer_line

TAIL_BYTES = 1 << 16


CHUNK = 4 << 20


# The UTF-8 bytes that can spell an _EDGE character other than CR and U+3000, or the \x01 `raw` joins
# cells with: C0 controls but LF and CR, DEL, and the lead bytes of U+0080–U+2FFF. In a file whose
# rows hold none of them (Lines.odd_bytes), ODD_SPACING can only find a CR or a U+3000: the typing
# query then looks for those two in every free-text cell, a fraction of the regex.
ODD_BYTES = bytes([*range(0x00, 0x0A), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0xC2, 0xE3)])


_OTHER_BYTES = bytes(b for b in range(256) if b not in ODD_BYTES and b != 0x0A)  # all but LF and those


class Lines:
    """Physical lines of a UTF-8 file, the footer or blank lines at its end, and whether the lines
    after its `header_lines` hold one of ODD_BYTES.

    In a tab-separated file (`delimiter` a tab) tabs are not odd: they are counted, and a file whose
    lines hold more than their fields need (`tabs_in_cells`) has a tab inside a cell."""

    def __init__(self, header_lines: int = 0, delimiter: str = ","):
        self.count, self.last, self.tail = 0, b"\n", b""
        self.header_lines, self.odd_bytes = header_lines, False
        self.delimiter, self.tabs = delimiter, 0

    @classmethod
    def of_file(
        cls,
        path: Path,
        header_lines: int = 0,
        odd_byte_found: Callable[[], None] | None = None,
        delimiter: str = ",",
    ) -> Lines:
        """The file's lines; `odd_byte_found()` is called as soon as an odd byte is, if one is."""
        lines = cls(header_lines, delimiter)
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                lines.feed(chunk)
                if lines.odd_bytes and odd_byte_found:
                    odd_byte_found()
                    odd_byte_found = None
        return lines

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        rows = chunk
        while self.count < self.header_lines and rows:
            end = rows.find(b"\n")
            rows = rows[end + 1 :] if end >= 0 else b""
            self.count += end >= 0
        # One pass keeps the line feeds and the odd bytes: ten times faster than a regex search.
        kept = rows.translate(None, _OTHER_BYTES)
        feeds = kept.count(b"\n")
        tabs = kept.count(b"\t") if self.delimiter == "\t" else 0
        self.count += feeds
        self.tabs += tabs
        self.odd_bytes = self.odd_bytes or len(kept) > feeds + tabs
        self.last = chunk[-1:]
        self.tail = (self.tail + chunk[-TAIL_BYTES:])[-TAIL_BYTES:]

    def result(self) -> tuple[int, int, int | None, int]:
        """(physical lines, trailing footer or blank lines, the footer's total, footer lines)."""
        physical = self.count + (self.last != b"\n")
        trailing, total, footers, _ = self._trailing()
        return physical, trailing, total, footers

    def tabs_in_cells(self, width: int) -> bool:
        """Whether a tab-separated file's lines hold more tabs than `width` fields a line and its
        footer need: a cell holds a tab (then the odd-bytes query must type the file). A line with
        fewer fields cannot make up for it: DuckDB rejects such a line, which declines the file."""
        if self.delimiter != "\t":
            return False
        physical, (trailing, _, _, footer_tabs) = self.count + (self.last != b"\n"), self._trailing()
        data_lines = physical - self.header_lines - trailing
        return self.tabs != (width - 1) * data_lines + footer_tabs

    def _trailing(self) -> tuple[int, int | None, int, int]:
        """(trailing footer or blank lines, the footer's total, footer lines, tabs in those lines)."""
        text = self.tail.decode("utf-8", errors="replace").splitlines()
        trailing, total, footers, tabs = 0, None, 0, 0
        for line in reversed(text[1:] if len(self.tail) >= TAIL_BYTES else text):
            cells = [c.strip() for c in next(csv.reader(io.StringIO(line), delimiter=self.delimiter), [])]
            filled = [c for c in cells if c]
            if filled:
                is_footer, found = footer_line(filled)
                if not is_footer:
                    break
                total, footers = found if total is None else total, footers + 1
            trailing, tabs = trailing + 1, tabs + line.count("\t")
        return trailing, total, footers, tabs
