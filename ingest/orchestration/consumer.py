"""What the example consumer DAG does with a release: read the latest city summary as an analyst would."""

from __future__ import annotations

import logging
from pathlib import Path

from ingest.common import paths
from ingest.common.releases import latest_file, latest_snapshot
from ingest.publish.datasets import dataset_path

log = logging.getLogger(__name__)


def triggering_release(context) -> dict:
    """The `extra` of the newest Asset event that triggered the run: `snapshot_date`, `release`, and
    `url` when the release is on object storage; {} for a run started by hand."""
    found: dict = {}
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            extra = dict(getattr(event, "extra", None) or {})
            if extra.get("snapshot_date", "") >= found.get("snapshot_date", ""):
                found = extra
    return found


def active_organizations_by_city(data: str | None = None, release: dict | None = None) -> dict[str, int]:
    """Active organizations per city: in the release an Asset event names (read from object storage when
    it carries a `url`), else in the one the data folder's latest.json points at."""
    import pyarrow.parquet as pq

    columns = ["city_code", "active_org_count"]
    release = release or {}
    if release.get("url"):
        from ingest.publish.remote import Remote

        remote = Remote(release["url"])
        snapshot = release["snapshot_date"]
        relative = dataset_path(Path("."), "city_summary", snapshot).as_posix()
        with remote.fs.open(remote.path(relative), "rb") as fh:
            table = pq.read_table(fh, columns=columns).to_pydict()
        where = remote.url_of(relative)
    else:
        publish = paths.data_dir(data) / "publish"
        snapshot = release.get("snapshot_date") or latest_snapshot(publish)
        if not snapshot:
            raise FileNotFoundError(f"{latest_file(publish)}: nothing published yet")
        path = dataset_path(publish, "city_summary", snapshot)
        table, where = pq.read_table(path, columns=columns).to_pydict(), path
    counts = dict(zip(table["city_code"], table["active_org_count"], strict=True))
    log.info("release %s (%s): active organizations by city %s", snapshot, where, counts)
    return counts
