"""`publish/marts.duckdb`: the latest release as one DuckDB file for BI tools, swapped in whole."""

from __future__ import annotations

from pathlib import Path

from ingest.common.sql import sql_literal, sql_path


def build_marts_db(target: Path, parquet_files: dict[str, Path], docs: dict[str, dict]) -> None:
    """One table per dataset, loaded from its published Parquet, with the table's and columns' comments:
    all in one transaction (a commit per comment, some 300 of them, cost a night about 0.2 s)."""
    import duckdb

    target.unlink(missing_ok=True)
    with duckdb.connect(str(target)) as con:
        con.execute("begin")
        for dataset, parquet in parquet_files.items():
            con.execute(f'create table "{dataset}" as select * from read_parquet({sql_path(parquet)})')
            doc = docs.get(dataset, {})
            comments = []
            if doc.get("description"):
                comments.append(f'comment on table "{dataset}" is {sql_literal(doc["description"])}')
            columns = {row[0] for row in con.execute(f'describe "{dataset}"').fetchall()}
            for column, text in doc.get("columns", {}).items():
                if text and column in columns:
                    comments.append(f'comment on column "{dataset}"."{column}" is {sql_literal(text)}')
            if comments:
                con.execute(";\n".join(comments))
        con.execute("commit")
        con.execute("checkpoint")
