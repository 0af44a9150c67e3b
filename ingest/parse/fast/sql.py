"""The SQL of the fast path, generated from ingest.rules.typing_rules: read, trim, type, decline, reason.

The SQL types a cell only when the rule applies to its text exactly as written; any other spelling (full
width, spaces inside, lower case, a time of day) leaves the typed value null, which declines the row to
the Python path (ingest.parse.rows): both paths therefore type from the same rules, and alike.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import pyarrow as pa

from ingest.common.sql import sql_literal
from ingest.parse.cells import traditional_to_simplified
from ingest.rules.creditcode import ALPHABET, ORGANIZATION_CODE, check_character_sql
from ingest.rules.layouts import Column, Layout
from ingest.rules.typing_rules import (
    ARROW_TYPES,
    BRACKETS,
    DATE_SPELLINGS,
    EMPTY_VALUES,
    ENUMS,
    EXCEL_EPOCH,
    EXCEL_SERIAL,
    EXCEL_SERIAL_RANGE,
    FULL_WIDTH_BRACKETS,
    GRADE_SPELLINGS,
    IDENTIFIER_SAFE,
    LABEL_COLUMN_SUFFIX,
    LABELLED_TYPES,
    NORMALIZED_SUFFIX,
)

# A row Python might read differently from DuckDB's space-only trim: a control character or one
# below U+3001 (it may be whitespace str.strip() removes) at a cell's edge, or an ideographic space
# anywhere (normalize.text() turns it into a space). Cells are joined with \x01 in `raw`.
_EDGE = r"[\x00\x02-\x1F\x7F-\x{3000}]"
ODD_SPACING = rf"(^|\x01) *{_EDGE}|{_EDGE} *(\x01|$)|\x{{3000}}"


def _class_of(characters: str) -> str:
    """A regex class's members spelling `characters` (\\x{…} each, as RE2 reads them)."""
    return "".join(f"\\x{{{ord(c):X}}}" for c in characters)


# The bracket characters a name may hold for the fast path: those the rules fold (ASCII ones are
# printable ASCII already).
_FOLDED_BRACKETS = _class_of("".join(c for c in [*FULL_WIDTH_BRACKETS, *BRACKETS] if ord(c) > 0x7E))


@cache
def safe_name_class() -> str:
    """A regex class of the characters a name may hold for the fast path: printable ASCII, the brackets
    the rules fold and the CJK ideographs that are not traditional forms; NFKC and normalize_name()
    change none of the others."""
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
    return f"[\\x20-\\x7E{_FOLDED_BRACKETS}{spelled}]"


PLAIN_NAME_CLASS = f"[\\x20-\\x7E{_FOLDED_BRACKETS}\\x{{4E00}}-\\x{{9FFF}}]"


def _lookup(value: str, mapping: dict, default: str = "null") -> str:
    """A CASE over the keys of `mapping`. DuckDB turns `x in (…)` and map lookups into a join over
    every row; a CASE compares only the rows still unmatched, and costs a tenth of it."""
    whens = " ".join(f"when {sql_literal(k)} then {v}" for k, v in mapping.items())
    return f"(case {value} {whens} else {default} end)"


def _empty_as_null(text: str) -> str:
    """SQL of the trimmed text, or null when it spells an empty value (a text longer than the longest
    of them is compared with none)."""
    longest = max(len(v.encode()) for v in EMPTY_VALUES)
    empties = dict.fromkeys(sorted(EMPTY_VALUES), "null")
    return f"case when strlen({text}) > {longest} then {text} else {_lookup(text, empties, text)} end"


def _typed_sql(col: Column, t: str, plain_names: bool = False) -> tuple[str | None, str]:
    """(SQL true when the fast path can type the trimmed text `t`, or None when it can exactly when
    the typed value is not null; SQL of the typed value).

    `plain_names`: the file has no traditional characters, so any CJK ideograph is safe in a name.
    """
    kind = col.type
    if kind == "text":
        return "true", t
    if kind == "identifier":  # spaces or characters NFKC folds: typed in Python
        return f"regexp_full_match({t}, '{IDENTIFIER_SAFE}')", t
    if kind == "name":
        folded = t
        for wide, narrow in FULL_WIDTH_BRACKETS.items():
            folded = f"replace({folded}, {sql_literal(wide)}, {sql_literal(narrow)})"
        safe = PLAIN_NAME_CLASS if plain_names else safe_name_class()
        return f"regexp_full_match({t}, '{safe}*')", folded
    if kind == "credit_code":
        return f"regexp_full_match({t}, '[{ALPHABET}]{{18}}')", t
    if kind == "org_code":  # as written plainly; `50000123-4` and other spellings are typed in Python
        return f"regexp_full_match({t}, '{ORGANIZATION_CODE.pattern}')", t
    if kind == "division":
        return f"regexp_full_match({t}, '\\d{{6}}')", t
    if kind == "date":
        return None, _date_sql(t)
    if kind == "amount":
        return f"regexp_full_match({t}, '\\d{{1,14}}(\\.\\d{{1,4}})?')", f"try_cast({t} as decimal(18, 4))"
    if kind == "grade":  # -1 marks a spelling of "not graded"
        grade = _lookup(t, {k: g or -1 for k, g in GRADE_SPELLINGS.items()})
        return f"{grade} is not null", f"cast(nullif({grade}, -1) as tinyint)"
    if kind == "year":
        return f"regexp_full_match({t}, '\\d{{4}}')", f"try_cast({t} as smallint)"
    return None, _lookup(t, {k: sql_literal(v) for k, v in ENUMS[kind][0].items()})


def _date_sql(t: str) -> str:
    """SQL of the date the trimmed text `t` spells, per the rules' date spellings and Excel serials; null
    for anything else (a year starting with 0 included: DuckDB reads year 0 where Python refuses it).
    DuckDB's cast of the ISO form is null for impossible dates, which Python then names."""
    whens = [
        f"when regexp_full_match({t}, {sql_literal(spelling)}) "
        f"then try_cast(regexp_replace({t}, {sql_literal(f'^{spelling}$')}, '\\1-\\2-\\3') as date)"
        for spelling in DATE_SPELLINGS
    ]
    serial = f"try_cast({t} as double)"
    lowest, beyond = EXCEL_SERIAL_RANGE
    whens.append(
        f"when regexp_full_match({t}, {sql_literal(EXCEL_SERIAL)}) "
        f"and {serial} >= {lowest} and {serial} < {beyond} "
        f"then date '{EXCEL_EPOCH}' + cast(floor({serial}) as integer)"
    )
    return f"(case when starts_with({t}, '0') then null {' '.join(whens)} end)"


def reason_sql(col: Column, v: str, export_date: dt.date, wrong_check: str | None) -> str | None:
    """SQL for the reason a typed value costs its row, in the order ingest.parse.rows checks.

    `wrong_check`: SQL true when a credit code's check character is wrong (see computed_check), or
    None to leave that reason out (the typing query: check_credit_codes() adds it afterwards).
    """
    checks = []
    if col.type == "credit_code" and wrong_check:
        checks.append(f"when {wrong_check} then 'credit_code_check_character'")
    if col.required:
        instead = "".join(f" and {other} is null" for other in col.unless)
        checks.append(f"when {v} is null{instead} then '{col.name}_missing'")
    if col.not_after_export:
        checks.append(f"when {v} > date '{export_date.isoformat()}' then 'date_in_future'")
    return f"(case {' '.join(checks)} end)" if checks else None


def computed_check(v: str) -> str:
    """SQL true when the credit code `v` has a wrong check character."""
    return f"{check_character_sql(v)} <> substr({v}, 18, 1)"


def typed_columns(layout: Layout) -> list[tuple[str, pa.DataType]]:
    """The typed columns of a layout (raw/'s schema), in order: the normalized form after each name, the
    label as written after each enumerated or grade column."""
    out = []
    for col in layout.columns:
        if col.personal:
            continue
        out.append((col.name, ARROW_TYPES[col.type]))
        if col.type == "name":
            out.append((f"{col.name}{NORMALIZED_SUFFIX}", pa.string()))
        if col.type in LABELLED_TYPES:
            out.append((f"{col.name}{LABEL_COLUMN_SUFFIX}", pa.string()))
    return out


def select_typed(
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
    # type_declined_rows() declines the file, whose cells `raw` cannot give back.
    # With odd bytes, `raw` is joined for the regex first; without, only for the rows that keep it.
    if odd_bytes:
        odd = f"{ODD_SPACING}|^(?:[^\\x01]*\\x01){{{export.width}}}"
        spacing, has_nul = f"not regexp_matches(raw, '{odd}')", "contains(raw, chr(0))"
        kept, carried, raw = f"{raw_sql(export)} as raw", "raw", "raw"
    else:
        # Only free text can hold them once typed: every other kind is typed by a pattern or a list of
        # spellings, none of which holds a CR or a U+3000, so such a cell declines its row anyway.
        free_text = [typed_cells[c.name] for c in spelled if c.name in typed_cells and c.type == "text"]
        found = " or ".join(f"contains({c}, chr(13)) or contains({c}, chr(12288))" for c in free_text)
        spacing, has_nul = f"not coalesce({found or 'false'}, false)", "false"
        kept = carried = ", ".join(cells)
        raw = raw_sql(export)
    # Each typed value is computed once, in one layer; the next layer's decline flag reads it.
    typed, oks = [], [spacing]
    for col in spelled:
        ok, value = _typed_sql(col, f"t_{col.name}", plain_names)
        typed.append(f"{value} as {col.name}")
        typed.append(f"t_{col.name} is null{f' or {ok}' if ok else ''} as ok_{col.name}")
        oks.append(f"(ok_{col.name} or {col.name} is not null)" if ok is None else f"ok_{col.name}")
        if col.type in LABELLED_TYPES:
            typed.append(f"t_{col.name} as {col.name}{LABEL_COLUMN_SUFFIX}")
        if col.type == "name":  # translate() copies every name; most have no bracket or space to fold
            brackets = sql_literal("".join(BRACKETS)), sql_literal("".join(BRACKETS.values()))
            folded = f"replace(translate({value}, {brackets[0]}, {brackets[1]}), ' ', '')"
            found = sql_literal("[" + "".join(f"\\{c}" if c in "[]" else c for c in BRACKETS) + " ]")
            typed.append(
                f"case when regexp_matches({value}, {found}) then {folded} else {value} end "
                f"as {col.name}{NORMALIZED_SUFFIX}"
            )
    reasons = [r for col in spelled if (r := reason_sql(col, col.name, export_date, None))]
    reason = f"coalesce({', '.join(reasons)})" if reasons else "null::varchar"
    names = ", ".join(name for name, _ in typed_columns(layout))
    # Only rows that are declined or quarantined keep their cells: copying every row's cost a sixth of
    # the query. Rows quarantined afterwards get theirs back from restore_raw().
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
                        from {read_sql(export, sources)}
                    )
                )
            )
        )
    """


def read_sql(export, sources: list[str]) -> str:
    """DuckDB's reader of files of one shape: every cell as text, in columns c0, c1, …"""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(export.width)) + "}"
    files = "[" + ", ".join(sql_literal(source) for source in sources) + "]"
    return (
        f"read_csv({files}, header = false, skip = {export.header_row}, "
        f"columns = {columns}, delim = {sql_literal(export.delimiter)}, quote = '\"', escape = '\"', "
        "auto_detect = false, "
        "null_padding = false, ignore_errors = true, store_rejects = true, strict_mode = true)"
    )


def raw_sql(export) -> str:
    """A row's cells joined with \\x01 (`raw`)."""
    return "concat_ws(chr(1), " + ", ".join(f"coalesce(c{i}, '')" for i in range(export.width)) + ")"


def duck_type(arrow: pa.DataType) -> str:
    return {
        pa.string(): "varchar", pa.date32(): "date", pa.int8(): "tinyint", pa.int16(): "smallint",
        pa.int64(): "bigint", pa.decimal128(18, 4): "decimal(18, 4)",
    }[arrow]  # fmt: skip
