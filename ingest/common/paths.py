"""Where things live: the checkout's folders and the data/exports roots from the environment."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = DBT_DIR / "seeds"
DAGS_DIR = PROJECT_ROOT / "dags"


def data_dir(value: str | os.PathLike | None = None) -> Path:
    """The data folder: the argument, else `SOCORG_DATA`, else `./data`."""
    return Path(value or os.environ.get("SOCORG_DATA") or "data").resolve()


def exports_root(value: str | None = None, data: Path | None = None) -> str:
    """The exports root URL: the argument, else `SOCORG_EXPORTS`, else `<data>/exports`."""
    if value or os.environ.get("SOCORG_EXPORTS"):
        return str(value or os.environ["SOCORG_EXPORTS"])
    return str((data or data_dir()) / "exports")


def duckdb_memory() -> str:
    """How much memory the warehouse's DuckDB may use before it spills to disk: `SOCORG_DUCKDB_MEMORY`."""
    return os.environ.get("SOCORG_DUCKDB_MEMORY") or "4GB"
