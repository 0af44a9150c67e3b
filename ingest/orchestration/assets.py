"""Airflow Assets for the published datasets: the publish_remote task's outlets, other DAGs' schedules."""

from __future__ import annotations

from ingest.publish.datasets import DATASETS


def published_asset(dataset: str):
    """The Asset of one published dataset, `socorg://publish/<dataset>`, named `socorg.<dataset>`."""
    from airflow.sdk import Asset

    if dataset not in DATASETS:
        raise KeyError(f"{dataset!r} is not a published dataset; expected one of {sorted(DATASETS)}")
    return Asset(name=f"socorg.{dataset}", uri=f"socorg://publish/{dataset}", group="socorg")


def published_assets() -> list:
    """Every published dataset's Asset: a night's publish_remote task (publishing's last step) updates all."""
    return [published_asset(d) for d in DATASETS]


def record_events(context, result: dict) -> None:
    """What each Asset event of the night says (`extra`): the snapshot date, and where the release is
    — its URL on object storage when it was uploaded there (`url`, `latest`), else its local index."""
    extra = {"snapshot_date": result["snapshot_date"], "release": result["release"]}
    if result.get("url"):
        extra.update(url=result["url"], latest=f"{result['url']}/latest.json")
    for asset in published_assets():
        context["outlet_events"][asset].extra = extra
