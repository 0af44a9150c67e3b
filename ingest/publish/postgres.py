"""Load a release's marts into a PostgreSQL schema and swap it in within one transaction."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.common.errors import SocorgError
from ingest.common.files import read_json, sha256_of
from ingest.common.releases import latest_snapshot, release_dir
from ingest.common.sql import sql_literal, sql_path
from ingest.publish.datasets import dataset_docs
from ingest.publish.release import verify

POSTGRES_CONN_ID = "socorg_postgres"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,50}$")


def postgres_type(arrow_type: pa.DataType) -> str:
    """The PostgreSQL column type for an Arrow type of our marts."""
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_int8(arrow_type) or pa.types.is_int16(arrow_type):
        return "smallint"
    if pa.types.is_int32(arrow_type):
        return "integer"
    if pa.types.is_integer(arrow_type):
        return "bigint"
    if pa.types.is_floating(arrow_type):
        return "double precision"
    if pa.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    return "text"


def dsn_from_airflow(conn_id: str = POSTGRES_CONN_ID) -> str | None:
    """The DSN of the Airflow connection, if there is one (`AIRFLOW_CONN_SOCORG_POSTGRES=postgresql://…`)."""
    from ingest.land.storage import airflow_connection

    conn = airflow_connection(conn_id)
    if conn is None:
        return None
    return conn.get_uri().replace("postgres://", "postgresql://", 1)


def loaded_index_sha256(dsn: str, schema: str) -> str | None:
    """The sha256 of the release index the schema was loaded from, or None (no schema yet)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "select 1 from information_schema.tables where table_schema = %s and table_name = '_release'",
            (schema,),
        ).fetchone()
        if not found:
            return None
        return conn.execute(f'select index_sha256 from "{schema}"."_release"').fetchone()[0]


def publish_postgres(data: Path, dsn: str, schema: str = "socorg", snapshot_date: str | None = None) -> dict:
    """Verify the release (latest unless a date is given), load every dataset into a new schema, then
    drop the old schema and rename the new one — all in one transaction, so readers see a whole release."""
    import duckdb
    import psycopg

    if not IDENTIFIER.match(schema):
        raise SocorgError(f"schema {schema!r}: expected a lowercase SQL identifier")
    publish = data / "publish"
    snapshot_date = snapshot_date or latest_snapshot(publish)
    if not snapshot_date:
        raise SocorgError(f"{publish}: nothing published yet, so there is no release to load")
    folder = release_dir(publish, snapshot_date)
    problems = verify(folder)
    if problems:
        raise SocorgError(
            f"release {snapshot_date} does not match its index.json:\n  " + "\n  ".join(problems)
        )
    index = read_json(folder / "index.json")
    docs = dataset_docs()
    loading = f"{schema}__loading"
    scratch = data / "tmp" / f"postgres-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    counts = {}
    try:
        with psycopg.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(f'drop schema if exists "{loading}" cascade')
            cur.execute(f'create schema "{loading}"')
            for entry in index["files"]:
                parquet = publish / entry["path"]
                csv = scratch / f"{entry['dataset']}.csv"
                duckdb.sql(
                    f"copy (select * from read_parquet({sql_path(parquet)})) "
                    f"to {sql_path(csv)} (header false)"
                )
                counts[entry["dataset"]] = _load_table(cur, loading, entry["dataset"], parquet, csv)
                columns = [c["name"] for c in entry["schema"]]
                _comment(cur, loading, entry["dataset"], columns, docs.get(entry["dataset"], {}))
                csv.unlink()
            cur.execute(
                f'create table "{loading}"."_release" as select %s::date as snapshot_date, '
                "%s::text as index_sha256, now() as loaded_at",
                (snapshot_date, sha256_of(folder / "index.json")),
            )
            cur.execute(f'drop schema if exists "{schema}" cascade')
            cur.execute(f'alter schema "{loading}" rename to "{schema}"')
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"schema": schema, "snapshot_date": snapshot_date, "tables": counts}


def _load_table(cur, schema: str, dataset: str, parquet: Path, csv: Path) -> int:
    """Create the table from the Parquet schema and COPY the rows in; return the row count."""
    fields = pq.read_schema(parquet)
    columns = ", ".join(f'"{f.name}" {postgres_type(f.type)}' for f in fields)
    cur.execute(f'create table "{schema}"."{dataset}" ({columns})')
    with csv.open("rb") as fh, cur.copy(f'copy "{schema}"."{dataset}" from stdin (format csv)') as copy:
        while block := fh.read(1 << 20):
            copy.write(block)
    cur.execute(f'select count(*) from "{schema}"."{dataset}"')
    return cur.fetchone()[0]


def _comment(cur, schema: str, dataset: str, columns: list[str], doc: dict) -> None:
    """The dataset's and its columns' descriptions as PostgreSQL comments (BI tools show them)."""
    if doc.get("description"):
        cur.execute(f'comment on table "{schema}"."{dataset}" is {sql_literal(doc["description"])}')
    for column, text in doc.get("columns", {}).items():
        if text and column in columns:
            cur.execute(f'comment on column "{schema}"."{dataset}"."{column}" is {sql_literal(text)}')
