"""Airflow Assets for the published datasets: the publish task's outlets, other DAGs' schedules."""

from __future__ import annotations

from ingest.publish.datasets import DATASETS


def published_asset(dataset: str):
    """The Asset of one published dataset, `socorg://publish/<dataset>`, named `socorg.<dataset>`."""
    from airflow.sdk import Asset

    if dataset not in DATASETS:
        raise KeyError(f"{dataset!r} is not a published dataset; expected one of {sorted(DATASETS)}")
    return Asset(name=f"socorg.{dataset}", uri=f"socorg://publish/{dataset}", group="socorg")


def published_assets() -> list:
    """Every published dataset's Asset: a night's publish task updates all of them."""
    return [published_asset(d) for d in DATASETS]
