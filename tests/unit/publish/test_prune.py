"""Retention: the newest N releases, and the last release of every year unless told otherwise."""

from __future__ import annotations

import json

import pytest

from ingest.common.releases import releases
from ingest.publish.datasets import dataset_path
from ingest.publish.release import prune

ARCHIVE = ["2019-06-30", "2019-12-31", "2020-12-31", "2021-06-30", "2021-09-30", "2022-12-31",
           "2023-10-30", "2023-10-31"]  # fmt: skip


def published(tmp_path):
    publish = tmp_path / "publish"
    for night in ARCHIVE:
        folder = publish / "releases" / night
        folder.mkdir(parents=True)
        (folder / "index.json").write_text(json.dumps({"snapshot_date": night}), encoding="utf-8")
        for dataset in ("city_summary", "city_by_year"):
            path = dataset_path(publish, dataset, night)
            path.parent.mkdir(parents=True)
            path.write_bytes(b"PAR1")
    (publish / "latest.json").write_text(json.dumps({"snapshot_date": ARCHIVE[-1]}), encoding="utf-8")
    return publish


@pytest.mark.parametrize(
    ("year_ends", "kept"),
    [
        (True, ["2019-12-31", "2020-12-31", "2021-09-30", "2022-12-31", "2023-10-30", "2023-10-31"]),
        (False, ["2023-10-30", "2023-10-31"]),
    ],
)
def test_the_newest_releases_stay_and_every_years_last_unless_told_otherwise(tmp_path, year_ends, kept):
    publish = published(tmp_path)
    pruned = prune(publish, 2, tmp_path / "tmp", keep_year_ends=year_ends)
    assert releases(publish) == kept
    assert pruned == [night for night in ARCHIVE if night not in kept]
    for night in ARCHIVE:  # a pruned release's partitions go with it, whatever they are published under
        assert dataset_path(publish, "city_by_year", night).exists() == (night in kept)
        assert dataset_path(publish, "city_summary", night).exists() == (night in kept)
    versions = json.loads((publish / "versions.json").read_text(encoding="utf-8"))
    assert [r["snapshot_date"] for r in versions["releases"]] == list(reversed(kept))
