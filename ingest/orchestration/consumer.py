"""What the example consumer DAG does with a release: read the latest city summary as an analyst would."""

from __future__ import annotations

import logging

from ingest.common import paths
from ingest.publish.datasets import dataset_path
from ingest.publish.release import latest_file, latest_snapshot

log = logging.getLogger(__name__)


def active_organizations_by_city(data: str | None = None) -> dict[str, int]:
    """Active organizations per city in the release latest.json points at."""
    import datetime as dt

    import pyarrow.parquet as pq

    publish = paths.data_dir(data) / "publish"
    snapshot = latest_snapshot(publish)
    if not snapshot:
        raise FileNotFoundError(f"{latest_file(publish)}: nothing published yet")
    path = dataset_path(publish, "city_summary", dt.date.fromisoformat(snapshot))
    table = pq.read_table(path, columns=["city_code", "active_org_count"]).to_pydict()
    counts = dict(zip(table["city_code"], table["active_org_count"], strict=True))
    log.info("release %s: active organizations by city %s", snapshot, counts)
    return counts
