"""Where things live: the checkout's folders, the data/exports roots from the environment, raw partitions."""

from __future__ import annotations

import datetime as dt
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


def partition(data: Path, source: str, export_date: dt.date, quarantine: bool = False) -> Path:
    """`raw/<source>/export_date=<date>` or its quarantine twin."""
    base = data / "raw" / source
    if quarantine:
        base = base / "quarantine"
    return base / f"export_date={export_date.isoformat()}"


def partition_dates(data: Path, source: str) -> list[dt.date]:
    """The nights `raw/<source>/` holds a partition of, oldest first."""
    folder = data / "raw" / source
    found = folder.glob("export_date=*") if folder.exists() else []
    return sorted(dt.date.fromisoformat(p.name.removeprefix("export_date=")) for p in found)
