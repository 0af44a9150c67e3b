"""The figures the night report reads: tonight's staged datasets and, for charts over time, the nights
published before it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.common.sql import sql_path


def month_window(export_date: dt.date) -> dt.date:
    """The first day of the 12 months a report's monthly chart covers: the night's month and 11 before."""
    month = export_date.year * 12 + export_date.month - 1 - 11
    return dt.date(month // 12, month % 12 + 1, 1)


# The chart of organizations night by night shows the night and the nights published just before it, up
# to this many (the years are in city_by_year's chart).
NIGHTS_SHOWN = 31
# Up to this many cities the report has a section per city with its charts; beyond (a national night),
# a section per province with a table of its cities.
CITY_SECTIONS_UP_TO = 40


def read_night(publish: Path, export_date: dt.date, tonight: dict[str, Path]) -> dict:
    """The datasets the report shows, as pandas DataFrames (city-sized: a few thousand rows): tonight's
    staged files, and for the charts over time the nights published before it."""
    import duckdb

    def night(dataset: str, where: str = "true") -> object:
        return duckdb.sql(f"select * from read_parquet({sql_path(tonight[dataset])}) where {where}").df()

    def kept(dataset: str, since: dt.date | None = None, last: int | None = None) -> object:
        """Tonight's rows and those of the nights published before it (since `since`; the `last` of
        them)."""
        earlier = []
        for path in sorted((publish / dataset).glob("snapshot_date=*/*.parquet")):
            night_date = dt.date.fromisoformat(path.parent.name.removeprefix("snapshot_date="))
            if night_date < export_date and (since is None or night_date >= since):
                earlier.append(path)
        files = [tonight[dataset], *(earlier[-last:] if last else earlier)]
        listed = ", ".join(sql_path(f) for f in files)
        return duckdb.sql(f"select * from read_parquet([{listed}], union_by_name = true)").df()

    start = month_window(export_date).isoformat()
    summary = night("city_summary")
    common = {
        "city_summary": summary,
        "city_by_year": night("city_by_year"),
        "cluster_by_year": night("cluster_by_year"),
        "registrar_placements": night("registrar_placements"),
        "clusters": night("clusters"),
        "changes": night("registry_changes"),
        "loads": night("loads"),
        "quarantine_reasons": night("quarantine_reasons"),
        "quality": night("quality"),
    }
    if len(summary) > CITY_SECTIONS_UP_TO:  # a table of cities per province; no chart per city
        return {**common, "province_summary": night("province_summary")}
    return {
        **common,
        "city_history": kept("city_summary", last=NIGHTS_SHOWN - 1),
        "registry_stats": night("registry_stats"),
        "registered": night("organizations", f"registered_on >= '{start}'"),
        "changes_kept": kept("registry_changes", month_window(export_date)),
    }
