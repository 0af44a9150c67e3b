"""A fast path for CSV exports: DuckDB types every cell it can type exactly as ingest.parse.rows does.

The file is read once by DuckDB's CSV reader. A row whose cells all have plain, unambiguous
spellings is typed in SQL; any other row (full-width or traditional characters, unusual whitespace,
rare date forms, impossible dates, …) is declined to `ingest.parse.rows.type_record`, so both paths give
the same rows, reasons and row numbers (tests compare them on every sample and bad-input file). A
file whose shape DuckDB cannot account for line by line (rows cut short or too long, blank lines,
values spanning lines, bytes that are not UTF-8) is declined whole and parsed by the Python path.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

import pyarrow as pa

from ingest.parse import cells as n
from ingest.parse.cells import EMPTY_VALUES, footer_total, traditional_to_simplified
from ingest.parse.rows import ARROW_TYPES, Rejected, type_record
from ingest.parse.transcode import Undecodable, utf8_copy
from ingest.rules.creditcode import ALPHABET, check_character_sql, check_characters_ok
from ingest.rules.layouts import Column, Layout
from ingest.rules.personal import quarantine_json_sql

TAIL_BYTES = 1 << 16
CHUNK = 4 << 20
# A row Python might read differently from DuckDB's space-only trim: a control character or one
# below U+3001 (it may be whitespace str.strip() removes) at a cell's edge, or an ideographic space
# anywhere (normalize.text() turns it into a space). Cells are joined with \x01 in `raw`.
_EDGE = r"[\x00\x02-\x1F\x7F-\x{3000}]"
ODD_SPACING = rf"(^|\x01) *{_EDGE}|{_EDGE} *(\x01|$)|\x{{3000}}"
# The UTF-8 bytes that can spell an _EDGE character other than CR and U+3000, or the \x01 `raw` joins
# cells with: C0 controls but LF and CR, DEL, and the lead bytes of U+0080–U+2FFF. In a file whose
# rows hold none of them (_Lines.odd_bytes), ODD_SPACING can only find a CR or a U+3000: the typing
# query then looks for those two in every free-text cell, a fraction of the regex.
ODD_BYTES = bytes([*range(0x00, 0x0A), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0xC2, 0xE3)])
_OTHER_BYTES = bytes(b for b in range(256) if b not in ODD_BYTES and b != 0x0A)  # all but LF and those
# Date spellings typed in SQL; DuckDB's cast of their ISO form rejects impossible dates.
DATE_ISO = r"[1-9]\d{3}-\d{1,2}-\d{1,2}"
DATE_SEPARATED = r"[1-9]\d{3}(/\d{1,2}/\d{1,2}|年\d{1,2}月\d{1,2}日)"
DATE_DIGITS = r"[1-9]\d{7}"
DATE_SERIAL = r"\d{5}"  # an Excel serial day number typed as text
GRADES = (
    {f"{g}A": g for g in range(1, 6)}
    | {"A" * g: g for g in range(1, 6)}
    | {f"{g}A级": g for g in range(1, 6)}
    | {k: None for k in ("未评估", "未评", "无等级")}
)
DUCKDB_MEMORY = "1GB"
# zstd level 1, as pyarrow writes the Python path's files: for a typed registry export it writes in
# 0.67 s what level 3 (DuckDB's default) writes in 0.80 s, and 8 % smaller. A column chunk with more
# than 4,096 distinct values is written plain at once, instead of after a dictionary of DuckDB's
# default size was built and dropped (names, codes, addresses, dates): 0.80 s against 0.91 s.
RAW_PARQUET = "format parquet, compression zstd, compression_level 1, dictionary_size_limit 4096"


class Declined(Exception):
    """The file's shape cannot be accounted for line by line by DuckDB: use the Python path."""


@dataclass
class FastResult:
    """What the fast path wrote and counted for one file."""

    rows_read: int
    rows_loaded: int
    footer_total: int | None
    footer_rows: int
    reasons: Counter = field(default_factory=Counter)


def eligible(layout: Layout, path: Path, encoding: str) -> bool:
    """Only plain layouts of .csv files in UTF-8 or GB18030 take the fast path."""
    plain = all(
        c.type in ARROW_TYPES and not c.derive and c.default is None and c.errors == "quarantine"
        for c in layout.columns
    )
    encodings = ("utf-8", "utf-8-sig", "gb18030")
    return plain and not layout.not_available and path.suffix.lower() == ".csv" and encoding in encodings


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@cache
def _safe_name_class() -> str:
    """A regex class of the characters a name may hold for the fast path: printable ASCII, full-width
    round brackets (folded as halfwidth() folds them), the brackets 【】〔〕 and the CJK ideographs
    that are not traditional forms; NFKC and normalize_name() change none of the others."""
    traditional = {c for c in traditional_to_simplified() if 0x4E00 <= c <= 0x9FFF}
    ranges, start = [], None
    for code in range(0x4E00, 0xA001):
        inside = code <= 0x9FFF and code not in traditional
        if inside and start is None:
            start = code
        if not inside and start is not None:
            ranges.append((start, code - 1))
            start = None
    spelled = "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" if a != b else f"\\x{{{a:X}}}" for a, b in ranges)
    return f"[\\x20-\\x7E\\x{{FF08}}\\x{{FF09}}\\x{{3010}}\\x{{3011}}\\x{{3014}}\\x{{3015}}{spelled}]"


FULL_WIDTH_TO_ASCII = {"（": "(", "）": ")"}
PLAIN_NAME_CLASS = "[\\x20-\\x7E\\x{FF08}\\x{FF09}\\x{3010}\\x{3011}\\x{3014}\\x{3015}\\x{4E00}-\\x{9FFF}]"
SMALL_FILE = 8 << 20  # files up to this size are scanned for traditional characters first


def _lookup(value: str, mapping: dict, default: str = "null") -> str:
    """A CASE over the keys of `mapping`. DuckDB turns `x in (…)` and map lookups into a join over
    every row; a CASE compares only the rows still unmatched, and costs a tenth of it."""
    whens = " ".join(f"when {_quote(k)} then {v}" for k, v in mapping.items())
    return f"(case {value} {whens} else {default} end)"


def _empty_as_null(text: str) -> str:
    """SQL of the trimmed text, or null when it spells an empty value (all of them 4 bytes or fewer)."""
    return f"case when strlen({text}) > 4 then {text} else {_lookup(text, _EMPTIES, text)} end"


_EMPTIES = dict.fromkeys(sorted(EMPTY_VALUES), "null")


def _typed_sql(col: Column, t: str, plain_names: bool = False) -> tuple[str | None, str]:
    """(SQL true when the fast path can type the trimmed text `t`, or None when it can exactly when
    the typed value is not null; SQL of the typed value).

    `plain_names`: the file has no traditional characters, so any CJK ideograph is safe in a name.
    """
    kind = col.type
    if kind == "text":
        return "true", t
    if kind == "name":
        folded = f"replace(replace({t}, '（', '('), '）', ')')"
        safe = PLAIN_NAME_CLASS if plain_names else _safe_name_class()
        return f"regexp_full_match({t}, '{safe}*')", folded
    if kind == "credit_code":
        return f"regexp_full_match({t}, '[{ALPHABET}]{{18}}')", t
    if kind == "division":
        return f"regexp_full_match({t}, '\\d{{6}}')", t
    if kind == "date":
        # Full-width digits are left to ingest.parse.rows (it folds them with NFKC): no match, row declined.
        spelled = f"replace(replace(replace(replace({t}, '/', '-'), '年', '-'), '月', '-'), '日', '')"
        iso_digits = f"substr({t}, 1, 4) || '-' || substr({t}, 5, 2) || '-' || substr({t}, 7, 2)"
        value = (
            f"(case when regexp_full_match({t}, '{DATE_ISO}') then try_cast({t} as date) "
            f"when regexp_full_match({t}, '{DATE_SEPARATED}') then try_cast({spelled} as date) "
            f"when regexp_full_match({t}, '{DATE_DIGITS}') then try_cast({iso_digits} as date) "
            f"when regexp_full_match({t}, '{DATE_SERIAL}') and cast({t} as integer) >= 1 "
            f"then date '{n.EXCEL_EPOCH}' + cast({t} as integer) end)"
        )
        return None, value
    if kind == "amount":
        return f"regexp_full_match({t}, '\\d{{1,14}}(\\.\\d{{1,4}})?')", f"try_cast({t} as decimal(18, 4))"
    if kind == "grade":  # -1 marks a spelling of "not graded"
        grade = _lookup(t, {k: g or -1 for k, g in GRADES.items()})
        return f"{grade} is not null", f"cast(nullif({grade}, -1) as tinyint)"
    if kind == "year":
        return f"regexp_full_match({t}, '\\d{{4}}')", f"try_cast({t} as smallint)"
    mapping = {
        "org_type": n.ORG_TYPES, "org_status": n.ORG_STATUSES, "member_kind": n.MEMBER_KINDS,
        "member_role": n.MEMBER_ROLES, "member_status": n.MEMBER_STATUSES,
        "qualification": n.QUALIFICATIONS,
    }[kind]  # fmt: skip
    return None, _lookup(t, {k: _quote(v) for k, v in mapping.items()})


def _reason_sql(col: Column, v: str, export_date: dt.date, wrong_check: str | None) -> str | None:
    """SQL for the reason a typed value costs its row, in the order ingest.parse.rows checks.

    `wrong_check`: SQL true when a credit code's check character is wrong (see _computed_check), or
    None to leave that reason out (the typing query: _check_credit_codes() adds it afterwards).
    """
    checks = []
    if col.type == "credit_code" and wrong_check:
        checks.append(f"when {wrong_check} then 'credit_code_check_character'")
    if col.required:
        checks.append(f"when {v} is null then '{col.name}_missing'")
    if col.not_after_export:
        checks.append(f"when {v} > date '{export_date.isoformat()}' then 'date_in_future'")
    return f"(case {' '.join(checks)} end)" if checks else None


def _computed_check(v: str) -> str:
    """SQL true when the credit code `v` has a wrong check character."""
    return f"{check_character_sql(v)} <> substr({v}, 18, 1)"


def _typed_columns(layout: Layout) -> list[tuple[str, pa.DataType]]:
    """The typed columns of a layout, in order, with the normalized form after each name."""
    out = []
    for col in layout.columns:
        if col.personal:
            continue
        out.append((col.name, ARROW_TYPES[col.type]))
        if col.type == "name":
            out.append((f"{col.name}_normalized", pa.string()))
    return out


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


def _select_typed(
    layout: Layout,
    export,
    export_date: dt.date,
    sources: list[str],
    plain_names: bool = False,
    odd_bytes: bool = True,
) -> str:
    """One streaming query over files of one shape: raw cells → trimmed text → typed values, a decline
    flag, the reason and the file's position in `sources`.

    `odd_bytes`: whether a file's rows may hold one of ODD_BYTES (if not, no regex runs).
    """
    cells = [f"c{i}" for i in range(export.width)]
    mapped = {col.name: f"c{i}" for i, col in export.columns}
    spelled = [col for col in layout.columns if not col.personal]
    typed_cells = {c.name: mapped[c.name] for c in spelled if c.name in mapped}  # the others stay raw
    # trim() copies every cell; most cells have no space to trim.
    trimmed = [
        f"case when starts_with({m}, ' ') or ends_with({m}, ' ') then trim({m}) else {m} end as tr_{name}"
        for name, m in typed_cells.items()
    ]
    texts = [
        f"{_empty_as_null(f'tr_{c.name}') if c.name in typed_cells else 'null::varchar'} as t_{c.name}"
        for c in spelled
    ]
    # A cell holding the separator itself makes one separator too many: the row is declined, and
    # _type_declined_rows() declines the file, whose cells `raw` cannot give back.
    # With odd bytes, `raw` is joined for the regex first; without, only for the rows that keep it.
    if odd_bytes:
        odd = f"{ODD_SPACING}|^(?:[^\\x01]*\\x01){{{export.width}}}"
        spacing, has_nul = f"not regexp_matches(raw, '{odd}')", "contains(raw, chr(0))"
        kept, carried, raw = f"{_raw_sql(export)} as raw", "raw", "raw"
    else:
        # Only free text can hold them once typed: every other kind is typed by a pattern or a list of
        # spellings, none of which holds a CR or a U+3000, so such a cell declines its row anyway.
        free_text = [typed_cells[c.name] for c in spelled if c.name in typed_cells and c.type == "text"]
        found = " or ".join(f"contains({c}, chr(13)) or contains({c}, chr(12288))" for c in free_text)
        spacing, has_nul = f"not coalesce({found or 'false'}, false)", "false"
        kept = carried = ", ".join(cells)
        raw = _raw_sql(export)
    # Each typed value is computed once, in one layer; the next layer's decline flag reads it.
    typed, oks = [], [spacing]
    for col in spelled:
        ok, value = _typed_sql(col, f"t_{col.name}", plain_names)
        typed.append(f"{value} as {col.name}")
        typed.append(f"t_{col.name} is null{f' or {ok}' if ok else ''} as ok_{col.name}")
        oks.append(f"(ok_{col.name} or {col.name} is not null)" if ok is None else f"ok_{col.name}")
        if col.type == "name":  # translate() copies every name; most have no bracket or space to fold
            folded = f"replace(translate({value}, '[]【】〔〕', '()()()'), ' ', '')"
            typed.append(
                f"case when regexp_matches({value}, '[\\[\\] 【】〔〕]') then {folded} else {value} end "
                f"as {col.name}_normalized"
            )
    reasons = [r for col in spelled if (r := _reason_sql(col, col.name, export_date, None))]
    reason = f"coalesce({', '.join(reasons)})" if reasons else "null::varchar"
    names = ", ".join(name for name, _ in _typed_columns(layout))
    # Only rows that are declined or quarantined keep their cells: copying every row's cost a sixth of
    # the query. Rows quarantined afterwards get theirs back from _restore_raw().
    return f"""
        select {names}, file_index, declined and not has_nul as declined,
            case when has_nul then 'cell_contains_nul' when not declined then reason end as reason,
            null::varchar as column_name, null::varchar as value,
            case when declined or has_nul or reason is not null then {raw} end as raw
        from (
            select *, {reason} as reason, not ({" and ".join(oks)}) as declined
            from (
                select {carried}, has_nul, file_index, {", ".join(typed)}
                from (
                    select *, {", ".join(texts)}, {has_nul} as has_nul
                    from (
                        select {kept}, {", ".join(trimmed)}, cast(file_index as integer) as file_index
                        from {_read_sql(export, sources)}
                    )
                )
            )
        )
    """


def _read_sql(export, sources: list[str]) -> str:
    """DuckDB's reader of files of one shape: every cell as text, in columns c0, c1, …"""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(export.width)) + "}"
    files = "[" + ", ".join(_quote(source) for source in sources) + "]"
    return (
        f"read_csv({files}, header = false, skip = {export.header_row}, "
        f"columns = {columns}, delim = ',', quote = '\"', escape = '\"', auto_detect = false, "
        "null_padding = false, ignore_errors = true, store_rejects = true, strict_mode = true)"
    )


def _raw_sql(export) -> str:
    """A row's cells joined with \\x01 (`raw`)."""
    return "concat_ws(chr(1), " + ", ".join(f"coalesce(c{i}, '')" for i in range(export.width)) + ")"


@dataclass
class FastFile:
    """One export of a batch: its file and encoding, where its rows go, the fields of all its rows."""

    path: Path
    encoding: str
    outputs: dict[str, Path]
    file_fields: dict
    lineage: dict


def shape(layout: Layout, export) -> tuple:
    """Exports with the same shape (layout, columns, header row) can be typed by one query."""
    columns = tuple((i, col.name) for i, col in export.columns)
    return layout.source, layout.name, export.width, export.header_row, columns


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
                if file.encoding == "gb18030":
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
            typing = partial(_select_typed, layout, export, export_date, sources, plain)
            lines = _create_typed(con, typing, [read[i] for i in indexes], export.header_row)
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
        _check_credit_codes(con, layout, export_date)
        _type_declined_rows(con, layout, export, export_date)
        _mark_duplicates(con, layout)
        _restore_raw(con, export, sources, {k: start for k, (_, start, _, _) in accepted.items()})
        _describe_reasons(con, layout, export, export_date)
        typed = {row[0] for row in con.execute("describe typed").fetchall()}
        for k, (rows, start, _, _) in accepted.items():
            _write(con, layout, export, schema, typed, files[indexes[k]], start, rows)
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


def _create_typed(con, typing, paths: list[Path], header_lines: int) -> list[_Lines]:
    """Create the table `typed` with the query `typing(odd_bytes)` while this thread counts the lines
    of the files: the query starts as if none held one of ODD_BYTES, and starts again with the spacing
    regex at the first one found. DuckDB keeps both cores busy on the query, so the count (a tenth of
    its time, alone) then costs little."""
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
            lines = [_Lines.of_file(path, header_lines, odd_byte_found) for path in paths]
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


def _check_credit_codes(con, layout: Layout, export_date: dt.date) -> None:
    """Quarantine the rows typed in SQL whose credit code has a wrong check character, with the reason
    the row's columns give in order. The check runs over whole columns in numpy: the same arithmetic
    in SQL cost a sixth of the typing query."""
    import numpy as np

    typed_in_sql = "not declined and reason is distinct from 'cell_contains_nul'"
    wrong = {}
    for col in layout.columns:
        if col.type == "credit_code" and not col.personal:
            found = con.sql(
                f"select rowid, {col.name} from typed where {typed_in_sql} and {col.name} is not null"
            ).to_arrow_table()
            rowids = found["rowid"].combine_chunks()  # its to_numpy() would import pandas: a second
            rowids = np.frombuffer(rowids.buffers()[1], np.int64)[rowids.offset : rowids.offset + len(rowids)]
            wrong[col.name] = rowids[~check_characters_ok(found[col.name])].tolist()
    if not any(wrong.values()):
        return
    rows = " union ".join(f"select unnest(${i + 1}) as row_id" for i in range(len(wrong)))
    flags = ", ".join(f"row_id in (select unnest(${i + 1})) as wrong_{name}" for i, name in enumerate(wrong))
    reasons = [
        r for col in layout.columns
        if not col.personal and (r := _reason_sql(col, col.name, export_date, f"p.wrong_{col.name}"))
    ]  # fmt: skip
    con.execute(
        f"update typed set reason = coalesce({', '.join(reasons)}) "
        f"from (select row_id, {flags} from ({rows})) p where typed.rowid = p.row_id",
        list(wrong.values()),
    )


def _restore_raw(con, export, sources: list[str], starts: dict[int, int]) -> None:
    """Give `raw` back to the rows quarantined after the typing query (wrong check characters,
    duplicates): their files are read again and the cells of those rows, by position, kept."""
    files = con.execute("select distinct file_index from typed where reason is not null and raw is null")
    for (k,) in files.fetchall():
        con.execute(
            f"update typed set raw = r.raw from ("
            f"  select row_id, {_raw_sql(export)} as raw from ("
            f"    select *, ordinality + {starts[k] - 1} as row_id from {_read_sql(export, [sources[k]])} "
            f"    with ordinality"
            f"  ) where row_id in (select rowid from typed where reason is not null and raw is null)"
            f") r where typed.rowid = r.row_id"
        )


def _describe_reasons(con, layout: Layout, export, export_date: dt.date) -> None:
    """Name the column and the cell behind each reason found in SQL (few rows: done afterwards)."""
    positions = {col.name: i + 1 for i, col in export.columns}
    column, value = [], []
    for col in layout.columns:
        reason = _reason_sql(col, col.name, export_date, _computed_check(col.name))
        if col.personal or not reason:
            continue
        cell = f"string_split(raw, chr(1))[{positions[col.name]}]" if col.name in positions else "null"
        column.append(f"when {reason} is not null then '{col.name}'")
        value.append(f"when {reason} is not null then {cell}")
    if column:
        con.execute(
            f"update typed set column_name = case {' '.join(column)} end, value = case {' '.join(value)} end "
            "where reason is not null and not declined and reason <> 'cell_contains_nul' "
            "and not starts_with(reason, 'duplicate_')"
        )


def _type_declined_rows(con, layout: Layout, export, export_date: dt.date) -> None:
    """Type the rows DuckDB declined with ingest.parse.rows, as the Python path would, and put them back."""
    declined = con.execute("select rowid, raw from typed where declined").fetchall()
    if not declined:
        return
    columns = _typed_columns(layout)
    records = []
    for rowid, raw in declined:
        cells = raw.split("\x01")
        if len(cells) != export.width:
            raise Declined("a cell holds the control character \\x01")
        try:
            if any("\x00" in c for c in cells):
                raise Rejected("cell_contains_nul", None, None)
            record = type_record(layout, {col.name: cells[i] for i, col in export.columns}, export_date)
            record.update(reason=None, column_name=None, value=None)
        except Rejected as bad:
            record = bad.fields()
        records.append({**record, "row_id": rowid})
    # Each column goes in as a list parameter: an Arrow table built from Python values would import
    # pandas, a second for a file with a single declined row.
    typed = [("row_id", "bigint"), *((n, _duck_type(t)) for n, t in columns)]
    typed += [(k, "varchar") for k in ("reason", "column_name", "value")]
    lists = [[record.get(name) for record in records] for name, _ in typed]
    for i, (_, kind) in enumerate(typed):
        if kind.startswith("decimal"):  # as text: a list of Decimals might be bound as a double
            lists[i] = [None if v is None else str(v) for v in lists[i]]
    rows = ", ".join(f"cast(unnest(${i + 1}) as {kind}) as {name}" for i, (name, kind) in enumerate(typed))
    con.execute(
        f"update typed set {', '.join(f'{n} = p.{n}' for n, _ in typed[1:])} "
        f"from (select {rows}) p where typed.rowid = p.row_id",
        lists,
    )


def _mark_duplicates(con, layout: Layout) -> None:
    """Quarantine every repeat of the layout's unique key after its first loaded row."""
    if layout.source == "membership":
        con.execute(
            "update typed set member_name = null, member_name_normalized = null, member_credit_code = null "
            "where member_kind = 'individual'"
        )
    if not layout.unique_key:
        return
    key = {
        "member_key": "coalesce(member_credit_code, member_name_normalized)",
        "qualification_key": "coalesce(credit_code, enterprise_name_normalized) || '|' || qualification",
    }.get(layout.unique_key, layout.unique_key)
    repeated = (
        f"select file_index, {key} as k from typed where reason is null and {key} is not null "
        "group by 1, 2 having count(*) > 1"
    )
    # Counting distinct hashes finds no repeat exactly when there is none (a collision only costs the
    # update below, which matches keys), in 60 % of the time of grouping the keys.
    repeats = f"select count(*) - count(distinct hash(file_index, {key})) from typed"
    if not con.execute(f"{repeats} where reason is null and {key} is not null").fetchall()[0][0]:
        return
    con.execute(
        f"update typed set reason = 'duplicate_{layout.unique_key}', column_name = '{layout.unique_key}', "
        f"value = d.k from (select t.rowid as r, d.k, "
        f"row_number() over (partition by t.file_index, d.k order by t.rowid) as n "
        f"from typed t join ({repeated}) d on t.file_index = d.file_index and {key} = d.k "
        f"where t.reason is null) d where typed.rowid = d.r and d.n > 1"
    )


def _write(
    con,
    layout: Layout,
    export,
    schema: pa.Schema,
    typed: set[str],
    file: FastFile,
    start: int | None,
    rows: int,
) -> None:
    """Write one file's loaded and quarantined rows (rowids start … start + rows - 1) in file order
    (a table scan keeps insertion order); `typed` names the columns of the typed table."""
    lineage_sql = {
        "export_date": f"date '{file.lineage['export_date'].isoformat()}'",
        "source_file": _quote(file.lineage["source_file"]),
        "source_row": f"rowid - {start or 0} + {export.header_row + 1}",
    }
    loaded = []
    for f in schema:
        if f.name in lineage_sql:
            expr = lineage_sql[f.name]
        elif f.name in file.file_fields:
            expr = _quote(file.file_fields[f.name])
        else:
            expr = f.name if f.name in typed else "null"
        loaded.append(f"cast({expr} as {_duck_type(f.type)}) as {f.name}")
    row_json = quarantine_json_sql(
        layout, [(c.name, f"string_split(raw, chr(1))[{i + 1}]") for i, c in export.columns]
    )
    lineage_cols = ", ".join(f"{expr} as {name}" for name, expr in lineage_sql.items())
    rows_of_file = f"rowid between {start} and {start + rows - 1}" if rows else "false"
    con.execute(
        f"copy (select {', '.join(loaded)} from typed where {rows_of_file} and reason is null) "
        f"to {_quote(str(file.outputs['loaded']))} ({RAW_PARQUET})"
    )
    con.execute(
        f"copy (select {lineage_cols}, reason, column_name, value, {row_json}::varchar as row_json "
        f"from typed where {rows_of_file} and reason is not null) "
        f"to {_quote(str(file.outputs['rejected']))} ({RAW_PARQUET})"
    )


def _duck_type(arrow: pa.DataType) -> str:
    return {
        pa.string(): "varchar", pa.date32(): "date", pa.int8(): "tinyint", pa.int16(): "smallint",
        pa.int64(): "bigint", pa.decimal128(18, 4): "decimal(18, 4)",
    }[arrow]  # fmt: skip


class _Lines:
    """Physical lines of a UTF-8 file, the footer or blank lines at its end, and whether the lines
    after its `header_lines` hold one of ODD_BYTES."""

    def __init__(self, header_lines: int = 0):
        self.count, self.last, self.tail = 0, b"\n", b""
        self.header_lines, self.odd_bytes = header_lines, False

    @classmethod
    def of_file(
        cls, path: Path, header_lines: int = 0, odd_byte_found: Callable[[], None] | None = None
    ) -> _Lines:
        """The file's lines; `odd_byte_found()` is called as soon as an odd byte is, if one is."""
        lines = cls(header_lines)
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
        self.count += feeds
        self.odd_bytes = self.odd_bytes or len(kept) > feeds
        self.last = chunk[-1:]
        self.tail = (self.tail + chunk[-TAIL_BYTES:])[-TAIL_BYTES:]

    def result(self) -> tuple[int, int, int | None, int]:
        """(physical lines, trailing footer or blank lines, the footer's total, footer lines)."""
        physical = self.count + (self.last != b"\n")
        text = self.tail.decode("utf-8", errors="replace").splitlines()
        trailing, total, footers = 0, None, 0
        for line in reversed(text[1:] if len(self.tail) >= TAIL_BYTES else text):
            cells = [c.strip() for c in next(csv.reader(io.StringIO(line)), [])]
            filled = [c for c in cells if c]
            if not filled:
                trailing += 1
                continue
            found = footer_total(filled[0]) if len(filled) == 1 else None
            if found is None:
                break
            trailing, total, footers = trailing + 1, found if total is None else total, footers + 1
        return physical, trailing, total, footers


def _utf8_copy(path: Path, encoding: str, target: Path) -> None:
    """Decode a GB18030 file into a UTF-8 copy for DuckDB (whose reader has no GB18030 here)."""
    try:
        utf8_copy(path, encoding, target)
    except Undecodable as exc:
        raise Declined(f"cannot decode as {encoding}: {exc}") from None
