"""The passes after the typing query: check characters, declined rows typed in Python, duplicates, cells."""

from __future__ import annotations

import datetime as dt

from ingest.common.errors import Declined
from ingest.parse.fast.sql import computed_check, duck_type, raw_sql, read_sql, reason_sql, typed_columns
from ingest.parse.rows import Rejected, type_record
from ingest.rules.creditcode import check_characters_ok
from ingest.rules.layouts import Layout
from ingest.rules.typing_rules import (
    INDIVIDUAL_COLUMNS,
    INDIVIDUAL_KIND,
    NAMED_BY_COLUMN,
    NORMALIZED_SUFFIX,
    unique_key_parts,
)


def check_credit_codes(con, layout: Layout, export_date: dt.date) -> None:
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
        if not col.personal and (r := reason_sql(col, col.name, export_date, f"p.wrong_{col.name}"))
    ]  # fmt: skip
    con.execute(
        f"update typed set reason = coalesce({', '.join(reasons)}) "
        f"from (select row_id, {flags} from ({rows})) p where typed.rowid = p.row_id",
        list(wrong.values()),
    )


def restore_raw(con, export, sources: list[str], starts: dict[int, int]) -> None:
    """Give `raw` back to the rows quarantined after the typing query (wrong check characters,
    duplicates): their files are read again and the cells of those rows, by position, kept."""
    files = con.execute("select distinct file_index from typed where reason is not null and raw is null")
    for (k,) in files.fetchall():
        con.execute(
            f"update typed set raw = r.raw from ("
            f"  select row_id, {raw_sql(export)} as raw from ("
            f"    select *, ordinality + {starts[k] - 1} as row_id from {read_sql(export, [sources[k]])} "
            f"    with ordinality"
            f"  ) where row_id in (select rowid from typed where reason is not null and raw is null)"
            f") r where typed.rowid = r.row_id"
        )


def describe_reasons(con, layout: Layout, export, export_date: dt.date) -> None:
    """Name the column and the cell behind each reason found in SQL (few rows: done afterwards)."""
    positions = {col.name: i + 1 for i, col in export.columns}
    column, value = [], []
    for col in layout.columns:
        reason = reason_sql(col, col.name, export_date, computed_check(col.name))
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


def type_declined_rows(con, layout: Layout, export, export_date: dt.date) -> None:
    """Type the rows DuckDB declined with ingest.parse.rows, as the Python path would, and put them back."""
    declined = con.execute("select rowid, raw from typed where declined").fetchall()
    if not declined:
        return
    columns = typed_columns(layout)
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
    typed = [("row_id", "bigint"), *((n, duck_type(t)) for n, t in columns)]
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


def mark_duplicates(con, layout: Layout) -> None:
    """Quarantine every repeat of the layout's unique key after its first loaded row."""
    typed = dict(typed_columns(layout))
    if layout.source == "membership" and "member_kind" in typed:  # an individual's name and code are personal
        person = [c for name in INDIVIDUAL_COLUMNS for c in (name, f"{name}{NORMALIZED_SUFFIX}")]
        nulls = ", ".join(f"{c} = null" for c in person if c in typed)
        if nulls:
            con.execute(f"update typed set {nulls} where member_kind = '{INDIVIDUAL_KIND}'")
    if not layout.unique_key:
        return
    key = _key_sql(layout.unique_key, set(typed))
    repeated = (
        f"select file_index, {key} as k from typed where reason is null and {key} is not null "
        "group by 1, 2 having count(*) > 1"
    )
    if not _any_repeat(con, key):
        return
    column = _named_by_sql(layout.unique_key, set(typed))
    value = "d.k" if layout.unique_key not in NAMED_BY_COLUMN else "substr(d.k, strpos(d.k, ':') + 1)"
    con.execute(
        f"update typed set reason = 'duplicate_' || {column}, column_name = {column}, "
        f"value = {value} from (select t.rowid as r, d.k, "
        f"row_number() over (partition by t.file_index, d.k order by t.rowid) as n "
        f"from typed t join ({repeated}) d on t.file_index = d.file_index and {key} = d.k "
        f"where t.reason is null) d where typed.rowid = d.r and d.n > 1"
    )


def _any_repeat(con, key: str) -> bool:
    """Whether a loaded row repeats an earlier one's `key` in its file. Counting distinct hashes finds
    no repeat exactly when there is none (a collision only costs the update after), in 60 % of the
    time of grouping the keys."""
    repeats = f"select count(*) - count(distinct hash(file_index, {key})) from typed"
    return bool(con.execute(f"{repeats} where reason is null and {key} is not null").fetchall()[0][0])


def _named_by_sql(unique_key: str, present: set[str]) -> str:
    """SQL of the column a repeat is named by: the key, or the first present part of a key named by
    column (ingest.rules.typing_rules.NAMED_BY_COLUMN)."""
    if unique_key not in NAMED_BY_COLUMN:
        return f"'{unique_key}'"
    parts = [c for c in unique_key_parts(unique_key)["either"] if c in present]
    return "(case " + " ".join(f"when typed.{c} is not null then '{c}'" for c in parts) + " end)"


def _key_sql(unique_key: str, present: set[str]) -> str:
    """SQL of a layout's unique key (ingest.rules.typing_rules.UNIQUE_KEYS): null when a part is missing
    from the row, or from the layout (a variant without one of its columns)."""
    parts = unique_key_parts(unique_key)
    either = [c for c in parts["either"] if c in present] or ["null"]
    either_sql = either[0] if len(either) == 1 else f"coalesce({', '.join(either)})"
    if unique_key in NAMED_BY_COLUMN:  # tagged with its column: one part's value never meets another's
        tagged = [f"'{c}:' || {c}" for c in either]
        return f"coalesce({', '.join(tagged)})"
    return " || '|' || ".join([either_sql, *(c if c in present else "null" for c in parts["and_also"])])
