"""The full recompute of history (the models before issue 22, in history_reference/), run with DuckDB
on a data folder's raw Parquet: the reference the carried-forward history must equal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import jinja2

from ingest.rules.site import seed_file

SQL = Path(__file__).parent / "history_reference"
# Views in dependency order: (name, file).
VIEWS = [
    ("stg_audit__nights", SQL / "stg_audit__nights.sql"),
    ("stg_registry__snapshots", SQL / "stg_registry__snapshots.sql"),
    ("stg_membership__snapshots", SQL / "stg_membership__snapshots.sql"),
    ("int_registry_snapshots_compared", SQL / "int_registry_snapshots_compared.sql"),
    ("int_registry_changes", SQL / "int_registry_changes.sql"),
    ("organization_history", SQL / "organization_history.sql"),
    ("int_membership_changes", SQL / "int_membership_changes.sql"),
    ("int_cluster_member_counts_by_night", SQL / "int_cluster_member_counts_by_night.sql"),
]


def reference(data: Path, night: dt.date) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the reference views for `night` over `data`'s raw Parquet."""
    con = duckdb.connect()
    raw = str(data / "raw").replace("'", "''")

    def source(_schema: str, name: str) -> str:
        return f"read_parquet('{raw}/{name}/export_date=*/*.parquet', union_by_name = true)"

    def audited_snapshots(name: str) -> str:
        return (
            f"select source_rows.* from {source('raw', name)} as source_rows "
            "inner join stg_audit__nights as audited on source_rows.export_date = audited.snapshot_date"
        )

    env = jinja2.Environment()
    functions = {
        "ref": lambda name: name,
        "source": source,
        "snapshot_date": lambda: f"date '{night.isoformat()}'",
        "differs": lambda a, b: f"coalesce({a} <> {b}, ({a} is null) <> ({b} is null))",
        "audited_snapshots": audited_snapshots,
    }
    seed = str(seed_file("cluster_associations.csv")).replace("'", "''")
    con.execute(
        "create view cluster_associations as select * from "
        f"read_csv('{seed}', all_varchar = true, header = true)"
    )
    for name, path in VIEWS:
        sql = env.from_string(path.read_text(encoding="utf-8")).render(**functions)
        con.execute(f"create view {name} as {sql}")
    return con


VIEW_OF = {
    "organization_history": "organization_history",
    "registry_changes": "int_registry_changes",
    "membership_changes": "int_membership_changes",
    "int_cluster_member_counts_by_night": "int_cluster_member_counts_by_night",
}


def reference_columns(data: Path, night: dt.date, dataset: str, columns: list[str]) -> list[str]:
    """Those of `columns` the reference's view of the dataset has (it predates some), in their order."""
    held = reference(data, night).sql(f"select * from {VIEW_OF[dataset]} limit 0").columns
    missing = set(held) - set(columns)
    assert not missing, f"{dataset} is published without the reference's columns {sorted(missing)}"
    return [c for c in columns if c in held]


def reference_rows(data: Path, night: dt.date, dataset: str, columns: list[str]) -> list[tuple]:
    """A dataset's rows for `night` as the full recompute gives them: `columns` of them, sorted."""
    con = reference(data, night)
    view = VIEW_OF[dataset]
    cut = (
        "true"
        if dataset in ("organization_history", "int_cluster_member_counts_by_night")
        else (f"snapshot_date = date '{night}'")
    )
    listed = ", ".join(f'"{c}"' for c in columns)
    return con.sql(f"select {listed} from {view} where {cut} order by all").fetchall()
