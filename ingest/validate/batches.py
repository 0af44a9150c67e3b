"""The night's raw batches for GX, in bounded chunks, with the columns that need the whole night.

Uniqueness across files and chunks, and the association's standing in tonight's registry, cannot be
seen from one chunk: DuckDB derives them over the whole night, and GX checks the derived columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from ingest.common.paths import partition
from ingest.common.sql import sql_path
from ingest.rules.layouts import STANDING_SOURCES

CHUNK_ROWS = 1_000_000
BY_REGISTRATION_NUMBER = "credit_code is null and organization_code is null"


def night_files(data: Path, source: str, export_date: dt.date) -> str:
    """SQL reading one source's raw partition of the night."""
    return (
        f"read_parquet({sql_path(partition(data, source, export_date) / '*.parquet')}, union_by_name = true)"
    )


def night_rows(data: Path, source: str, export_date: dt.date) -> int:
    """Rows of one source's raw partition of the night (from the Parquet footers)."""
    import pyarrow.parquet as pq

    folder = partition(data, source, export_date)
    return sum(pq.read_metadata(f).num_rows for f in folder.glob("*.parquet")) if folder.exists() else 0


def night_query(data: Path, source: str, export_date: dt.date) -> str:
    """SQL of one source's night with its derived columns."""
    night = night_files(data, source, export_date)
    if source == "registry":
        return f"""
            select *, substr(credit_code, 1, 2) || ' ' || org_type as credit_code_category_org_type,
                substr(credit_code, 3, 6) as credit_code_division,
                coalesce(credit_code, organization_code, registration_number) as org_key,
                {_occurrences("credit_code")},
                {_occurrences("organization_code", named="credit_code is null")},
                {_occurrences("registration_number", "city_code", named=BY_REGISTRATION_NUMBER)}
            from {night}"""
    if source == "membership":
        registry = night_files(data, "registry", export_date)
        member = "coalesce(m.member_credit_code, m.member_name_normalized)"
        return f"""
            with standing as (
                select credit_code, min(status || ' ' || org_type) as standing from {registry} group by 1
            )
            select m.*,
                coalesce(s.standing, 'not in tonight''s registry') as association_registry_standing,
                case when {member} is not null
                    then count(*) over (partition by m.association_credit_code, {member}) end
                    as member_occurrences
            from {night} m left join standing s on s.credit_code = m.association_credit_code"""
    if source in STANDING_SOURCES:  # an organization is named by its code, else by its name
        return f"select *, coalesce(credit_code, org_name_normalized) as org_key from {night}"
    return f"select * from {night}"


def _occurrences(column: str, *within: str, named: str = "true") -> str:
    """SQL: how often the row's value of `column` occurs in the night (within the same `within` values)
    among the rows `named` by it (their key: see UNIQUE_KEYS' org_key), null for the other rows."""
    over = ", ".join([f"({named})", *within, column])
    counted = f"count(*) over (partition by {over})"
    return f"case when {column} is not null and {named} then {counted} end as {column}_occurrences"


def night_chunks(
    data: Path, source: str, export_date: dt.date, columns: list[str] | None = None, rows: int = CHUNK_ROWS
) -> Iterator:
    """pandas DataFrames of `rows` rows (the last one fewer); at least one (maybe empty) so every
    expectation reports.

    DuckDB's batches (about one a file or thread, of any size) are gathered into chunks of `rows`:
    each chunk is one GX run, whose own bookkeeping costs about a quarter of a second whatever its size.
    Only `columns` (all when None) are read. Dates arrive as datetime64[ns] and integers as int64 or
    float64, the dtypes GX compares vectorized (others it compares value by value in Python).
    """
    import duckdb
    import pyarrow as pa

    selected = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    con = duckdb.connect(config={"memory_limit": "2GB"})
    try:
        query = f"select {selected} from ({night_query(data, source, export_date)})"
        reader = con.sql(query).to_arrow_reader(rows)
        schema = _gx_schema(reader.schema)
        pending, held, chunks = [], 0, 0
        for batch in reader:
            while held + batch.num_rows >= rows:  # the batch completes a chunk: its head goes in it
                pending.append(batch.slice(0, rows - held))
                batch = batch.slice(rows - held)
                yield _frame(pa.Table.from_batches(pending, reader.schema), schema)
                pending, held, chunks = [], 0, chunks + 1
            if batch.num_rows:
                pending.append(batch)
                held += batch.num_rows
        if held or not chunks:
            yield _frame(pa.Table.from_batches(pending, reader.schema), schema)
    finally:
        con.close()


def _frame(table, schema):
    """A chunk as GX validates it: cast to `schema`, repeated strings encoded, as pandas. DuckDB's
    batches are not copied into one: pandas' columns are built from them directly."""
    return _encoded(table.cast(schema)).to_pandas(date_as_object=False)


def _encoded(table):
    """String columns with few distinct values dictionary-encoded (pandas categoricals): GX's set checks,
    its batch fingerprint and memory all work per distinct value then, not per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) and len(column):
            # One dictionary for all the chunk's batches (an empty chunk has no batch to hold one).
            encoded = pc.dictionary_encode(column).unify_dictionaries()
            if len(encoded.chunk(0).dictionary) * 4 <= len(column):
                column = encoded
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.schema.names)


def _gx_schema(schema):
    """Dates as timestamp[ns] and narrow integers as int64: the types GX checks vectorized in pandas."""
    import pyarrow as pa

    def widened(field):
        if pa.types.is_date(field.type):
            return field.with_type(pa.timestamp("ns"))
        if pa.types.is_integer(field.type):
            return field.with_type(pa.int64())
        return field

    return pa.schema([widened(f) for f in schema])
