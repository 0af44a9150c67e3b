"""Running the fast path: which files may take it, one DuckDB query per batch of one shape, the accounting."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

import pyarrow as pa

from ingest.common.errors import Declined
from ingest.parse.cells import traditional_to_simplified
from ingest.parse.fast.fixups import (
    check_credit_codes,
    describe_reasons,
    mark_duplicates,
    restore_raw,
    type_declined_rows,
)
from ingest.parse.fast.lines import Lines
from ingest.parse.fast.sql import select_typed
from ingest.parse.fast.write import FastFile, write_file
from ingest.parse.transcode import Undecodable, utf8_copy
from ingest.rules.formats import TEXT_FORMATS, extension
from ingest.rules.layouts import Layout
from ingest.rules.typing_rules import ARROW_TYPES

DUCKDB_MEMORY = "1GB"


@dataclass
class FastResult:
    """What the fast path wrote and counted for one file."""

    rows_read: int
    rows_loaded: int
    footer_total: int | None
    footer_rows: int
    reasons: Counter = field(default_factory=Counter)


# Read by DuckDB as they are, or (TRANSCODED) from a UTF-8 copy: DuckDB's reader has neither here.
ENCODINGS = ("utf-8", "utf-8-sig")
TRANSCODED = ("gb18030", "utf-16")


PYTHON_TYPES = ("money", "count")  # column types only the row path types (the standing sources' figures)


def eligible(layout: Layout, path: Path, encoding: str) -> bool:
    """Only plain layouts of delimited text files in UTF-8, GB18030 or UTF-16 take the fast path."""
    plain = all(
        c.type in ARROW_TYPES
        and c.type not in PYTHON_TYPES
        and not c.derive
        and c.default is None
        and c.errors == "quarantine"
        for c in layout.columns
    )
    readable = extension(path.name) in TEXT_FORMATS and encoding in (*ENCODINGS, *TRANSCODED)
    return plain and not layout.not_available and not layout.python_only and readable


SMALL_FILE = 8 << 20  # files up to this size are scanned for traditional characters first


def _without_traditional(source: Path) -> bool:
    """Whether a small file holds no traditional character at all; its names are then checked with a
    plain CJK range instead of the large class without traditional forms (which costs DuckDB about
    10 ms per query to compile: a tenth of a 2,000-row file's parse)."""
    if source.stat().st_size > SMALL_FILE:
        return False
    text = source.read_text(encoding="utf-8", errors="replace")
    return _traditional_characters().isdisjoint(set(text))


@cache
def _traditional_characters() -> frozenset[str]:
    return frozenset(chr(c) for c in traditional_to_simplified() if 0x4E00 <= c <= 0x9FFF)


def shape(layout: Layout, export) -> tuple:
    """Exports with the same shape (layout, columns, header row) can be typed by one query."""
    columns = tuple((i, col.name) for i, col in export.columns)
    return layout.source, layout.name, export.width, export.header_row, export.delimiter, columns


def parse_csv(
    path: Path,
    layout: Layout,
    export,
    export_date: dt.date,
    outputs: dict[str, Path],
    file_fields: dict,
    lineage: dict,
    schema: pa.Schema,
) -> FastResult:
    """Type a CSV export in DuckDB, writing Parquet to outputs["loaded"] and outputs["rejected"].

    Raises Declined when DuckDB cannot account for every line of the file.
    """
    only = FastFile(path, export.encoding, outputs, file_fields, lineage)
    result = parse_csvs([only], layout, export, export_date, schema)[0]
    if isinstance(result, Declined):
        raise result
    return result


def parse_csvs(
    files: list[FastFile], layout: Layout, export, export_date: dt.date, schema: pa.Schema
) -> list[FastResult | Declined]:
    """Type CSV exports of one shape (`export` is one of them) in one DuckDB query, each written to
    its own outputs: what each file's parse gave, or why it was declined (nothing written for it).

    Small files are parsed in batches because each query has a fixed cost (a connection, planning,
    the accounting queries) larger than typing 2,000 rows.
    """
    results: list[FastResult | Declined | None] = [None] * len(files)
    with tempfile.TemporaryDirectory(prefix="socorg-fastparse-") as scratch:
        folder = Path(scratch)
        read: dict[int, Path] = {}  # the UTF-8 file DuckDB reads for files[i]
        for i, file in enumerate(files):
            try:
                source = file.path
                if file.encoding in TRANSCODED:
                    source = folder / f"utf8-{i}.csv"
                    _utf8_copy(file.path, file.encoding, source)
                read[i] = source
            except Declined as exc:
                results[i] = exc
        if read:
            try:
                _parse(files, read, layout, export, export_date, schema, folder, results)
            except Declined as exc:
                results = [exc if r is None or i in read else r for i, r in enumerate(results)]
    return results


def _parse(files, read, layout, export, export_date, schema, scratch: Path, results: list) -> None:
    import duckdb

    indexes = list(read)  # file_index k in the query is files[indexes[k]]
    sources = [str(read[i]) for i in indexes]
    con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "temp_directory": str(scratch)})
    try:
        con.execute("set enable_progress_bar = false")  # it would draw into the task's log
        try:
            # With many files the class's compile cost is shared: no need to scan them first.
            plain = len(sources) == 1 and _without_traditional(Path(sources[0]))
            typing = partial(select_typed, layout, export, export_date, sources, plain)
            lines = _create_typed(con, typing, [read[i] for i in indexes], export)
        except duckdb.Error as exc:
            raise Declined(f"DuckDB cannot read it: {exc}") from None
        if len(sources) > 1:
            # DuckDB keeps each file's rows in order but may interleave files: put each file's rows
            # together so that a file is the rowid range its rows start at.
            con.execute("create table batch as select * from typed order by file_index, rowid")
            con.execute("drop table typed")
            con.execute("alter table batch rename to typed")
        counted = {k: (n, start) for k, n, start in con.execute(
            "select file_index, count(*), min(rowid) from typed group by 1"
        ).fetchall()}  # fmt: skip
        rejected = {path: (n, first) for path, n, first in con.execute(
            "select s.file_path, count(distinct e.line), min(e.line) "
            "from reject_errors e join reject_scans s using (scan_id, file_id) group by 1"
        ).fetchall()}  # fmt: skip
        accepted = {}
        for k, i in enumerate(indexes):
            rows, start = counted.get(k, (0, None))
            rejects, first = rejected.get(sources[k], (0, None))
            physical, trailing, footer, footer_rows = lines[k].result()
            after_data = first is None or first > export.header_row + rows
            if rejects != footer_rows or not after_data or physical != export.header_row + rows + trailing:
                results[i] = Declined(f"{rejects} lines DuckDB rejected, {footer_rows} footer lines")
            else:
                accepted[k] = (rows, start, footer, footer_rows)
        if len(accepted) < len(indexes):
            con.execute(f"delete from typed where file_index not in ({', '.join(map(str, accepted)) or -1})")
        check_credit_codes(con, layout, export_date)
        type_declined_rows(con, layout, export, export_date)
        mark_duplicates(con, layout)
        restore_raw(con, export, sources, {k: start for k, (_, start, _, _) in accepted.items()})
        describe_reasons(con, layout, export, export_date)
        typed = {row[0] for row in con.execute("describe typed").fetchall()}
        for k, (rows, start, _, _) in accepted.items():
            write_file(con, layout, export, schema, typed, files[indexes[k]], start, rows)
        loaded = dict(
            con.execute("select file_index, count(*) from typed where reason is null group by 1").fetchall()
        )
        reasons: dict[int, Counter] = {k: Counter() for k in accepted}
        for k, reason, n in con.execute(
            "select file_index, reason, count(*) from typed where reason is not null group by 1, 2"
        ).fetchall():
            reasons[k][reason] = n
        for k, (rows, _, footer, footer_rows) in accepted.items():
            results[indexes[k]] = FastResult(rows, loaded.get(k, 0), footer, footer_rows, reasons[k])
    finally:
        con.close()


def _create_typed(con, typing, paths: list[Path], export) -> list[Lines]:
    """Create the table `typed` with the query `typing(odd_bytes)` while this thread counts the lines
    of the files: the query starts as if none held one of ODD_BYTES, and starts again with the spacing
    regex at the first one found (or, in tab-separated files, once the count finds a tab inside a
    cell). DuckDB keeps both cores busy on the query, so the count (a tenth of its time, alone) then
    costs little."""
    import duckdb

    def create(odd_bytes: bool) -> None:
        if odd_bytes:  # the first query's table and its reader's rejects (two temporary tables) go
            for table in ("typed", "reject_errors", "reject_scans"):
                con.execute(f"drop table if exists {table}")
        con.execute(f"create table typed as {typing(odd_bytes)}")

    with ThreadPoolExecutor(1) as pool:
        queries = [pool.submit(create, False)]

        def odd_byte_found() -> None:
            if len(queries) == 1:
                con.interrupt()  # once the query is done it does nothing: the table is then dropped
                queries.append(pool.submit(create, True))

        try:
            lines = [
                Lines.of_file(path, export.header_row, odd_byte_found, export.delimiter) for path in paths
            ]
            if any(line.tabs_in_cells(export.width) for line in lines):
                odd_byte_found()
        except BaseException:
            for query in queries:  # a query not started yet is dropped, the running one interrupted
                query.cancel()
            con.interrupt()  # leaving the pool waits for it
            raise
        try:
            queries[0].result()
        except duckdb.Error:
            if len(queries) == 1:
                raise
        if len(queries) > 1:
            queries[1].result()
    return lines


def _utf8_copy(path: Path, encoding: str, target: Path) -> None:
    """Decode a GB18030 or UTF-16 file into a UTF-8 copy for DuckDB (whose reader has neither here)."""
    try:
        utf8_copy(path, encoding, target)
    except Undecodable as exc:
        raise Declined(f"cannot decode as {encoding}: {exc}") from None
