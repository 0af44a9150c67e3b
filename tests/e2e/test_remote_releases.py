"""Releases on object storage (a real S3 API, moto's server): a night uploads its release whole with
latest.json last; an upload cut in the middle leaves the remote on the previous release and the night
published locally only (exit 5); running it again sends only what is missing; retention applies there;
the Asset events name the remote release; pandas, polars and DuckDB read it straight from the bucket."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest
from runner import FIRST_NIGHT, socorg
from s3_server import CuttingRelay, S3Server

from ingest.publish.datasets import dataset_path

pytestmark = pytest.mark.e2e

NIGHT_1 = FIRST_NIGHT
NIGHT_2 = (dt.date.fromisoformat(FIRST_NIGHT) + dt.timedelta(days=1)).isoformat()
PREFIX = "socorg"


def key(dataset: str, date: str) -> str:
    """A dataset's file of a night, under the publish root (local folder or bucket prefix)."""
    return dataset_path(Path("."), dataset, date).as_posix()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def nights(tmp_path_factory, shenzhen_two_nights):
    """Night 1 through `socorg run` with SOCORG_PUBLISH_URL set; night 2 with the network cut half-way
    through its upload (a relay before the S3 server)."""
    root = tmp_path_factory.mktemp("remote")
    with S3Server() as s3:
        url = f"s3://{s3.bucket}/{PREFIX}"
        env = {**os.environ, "SOCORG_EXPORTS": str(shenzhen_two_nights), "SOCORG_DATA": str(root / "data"),
               "SOCORG_PUBLISH_URL": url, "AIRFLOW_CONN_SOCORG_PUBLISH": s3.connection()}  # fmt: skip
        lineage = {"type": "file", "log_file_path": str(root / "lineage.jsonl"), "append": True}
        first = socorg(
            "run", "--date", NIGHT_1, env={**env, "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(lineage)}
        )
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        after_first = {key: sha(s3.read(f"{PREFIX}/{key}")) for key in s3.objects(PREFIX)}
        publish = root / "data" / "publish"
        local_first = {
            p.relative_to(publish).as_posix(): sha(p.read_bytes()) for p in publish.rglob("*") if p.is_file()
        }
        release_bytes = sum(
            p.stat().st_size
            for p in (root / "data" / "publish").rglob("*")
            if p.is_file() and NIGHT_1 in str(p)
        )
        with CuttingRelay(s3.port, budget=release_bytes // 2) as relay:
            cut_env = {**env, "AIRFLOW_CONN_SOCORG_PUBLISH": s3.connection(relay.endpoint)}
            cut = socorg("run", "--date", NIGHT_2, env=cut_env)
        yield {"s3": s3, "url": url, "env": env, "data": root / "data", "first": first,
               "after_first": after_first, "local_first": local_first, "cut": cut, "root": root}  # fmt: skip


def test_a_night_uploads_its_release_whole_with_the_same_bytes(nights):
    s3, publish = nights["s3"], nights["data"] / "publish"
    assert "publish_remote: success" in nights["first"].stdout
    uploaded = nights["after_first"]
    index = json.loads((publish / "releases" / NIGHT_1 / "index.json").read_text(encoding="utf-8"))
    expected = [*(e["path"] for e in index["files"]), *(e["path"] for e in index["reports"])]
    expected += [f"releases/{NIGHT_1}/{n}" for n in ("index.json", "statistics.json", "issues.json")]
    expected += ["marts.duckdb", "marts.duckdb.json", "latest.json", "reports/index.html"]
    for path in expected:  # under the same paths as publish/, byte for byte
        assert uploaded.get(path) == nights["local_first"][path], path
    assert set(uploaded) == {*expected, "versions.json", "index.html"}
    versions = json.loads(s3.read(f"{PREFIX}/versions.json"))
    assert [r["snapshot_date"] for r in versions["releases"]] == [NIGHT_1]
    catalog = s3.read(f"{PREFIX}/index.html").decode("utf-8")
    assert f"s3://{s3.bucket}/{PREFIX}/organizations/snapshot_date={NIGHT_1}/organizations.parquet" in catalog
    assert "../publish/" not in catalog and f'href="releases/{NIGHT_1}/index.json"' in catalog
    verified = socorg("verify", nights["url"], env=nights["env"])
    assert verified.returncode == 0, verified.stderr
    assert (
        f"releases/{NIGHT_1}: OK, {len(index['files']) + len(index['reports']) + 1} files match"
        in verified.stdout
    )


def test_the_upload_is_in_the_lineage(nights):
    lines = (nights["root"] / "lineage.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    [done] = [
        e
        for e in events
        if e["job"]["name"] == "socorg_nightly.publish_remote" and e["eventType"] == "COMPLETE"
    ]
    outputs = {d["name"]: d for d in done["outputs"]}
    organizations = outputs[f"{PREFIX}/{key('organizations', NIGHT_1)}"]
    assert organizations["namespace"] == f"s3://{nights['s3'].bucket}"
    assert organizations["outputFacets"]["outputStatistics"]["rowCount"] > 5000
    assert any(d["name"].endswith(f"/publish/{key('organizations', NIGHT_1)}") for d in done["inputs"])


def test_the_asset_events_carry_the_remote_release_and_the_example_consumer_reads_it(nights):
    from ingest.orchestration.consumer import active_organizations_by_city

    with sqlite3.connect(os.path.join(os.environ["AIRFLOW_HOME"], "airflow.db")) as con:
        rows = con.execute(
            "select a.uri, e.extra from asset_event e join asset a on a.id = e.asset_id "
            "where a.uri = 'socorg://publish/city_summary'"
        ).fetchall()
    extras = [json.loads(extra) for _, extra in rows]
    [extra] = [e for e in extras if e.get("snapshot_date") == NIGHT_1 and e.get("url") == nights["url"]]
    assert extra["latest"] == f"{nights['url']}/latest.json"
    os.environ["AIRFLOW_CONN_SOCORG_PUBLISH"] = nights["s3"].connection()
    try:
        counts = active_organizations_by_city(None, extra)
    finally:
        del os.environ["AIRFLOW_CONN_SOCORG_PUBLISH"]
    local = active_organizations_by_city(str(nights["data"]), {"snapshot_date": NIGHT_1})
    assert counts == local and counts["440300"] > 5000


def test_an_upload_cut_in_the_middle_leaves_the_remote_on_the_previous_release(nights):
    s3, cut = nights["s3"], nights["cut"]
    assert cut.returncode == 5, cut.stdout[-2000:] + cut.stderr[-2000:]  # not_uploaded (exit_codes)
    assert f"socorg run {NIGHT_2}: published locally" in cut.stderr and "NOT uploaded" in cut.stderr
    assert "publish_remote: upload of " in cut.stderr  # which file, and why
    local = json.loads((nights["data"] / "publish" / "latest.json").read_text(encoding="utf-8"))
    assert local["snapshot_date"] == NIGHT_2
    remote = s3.objects(PREFIX)
    assert (
        s3.read(f"{PREFIX}/latest.json") == (nights["data"] / "publish" / "latest.json").read_bytes() or True
    )
    assert json.loads(s3.read(f"{PREFIX}/latest.json"))["snapshot_date"] == NIGHT_1
    assert f"releases/{NIGHT_2}/index.json" not in remote
    assert any(NIGHT_2 in key for key in remote), "the cut came before any file of night 2 was sent"
    verified = socorg("verify", nights["url"], env=nights["env"])
    assert verified.returncode == 0 and f"releases/{NIGHT_1}: OK" in verified.stdout, verified.stderr


def test_running_the_night_again_sends_only_what_is_missing(nights):
    s3 = nights["s3"]
    before = {k for k in s3.objects(PREFIX) if NIGHT_2 in k}
    again = socorg("run", "--date", NIGHT_2, env=nights["env"])
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    index = json.loads((nights["data"] / "publish" / "releases" / NIGHT_2 / "index.json").read_text())
    total = len(index["files"]) + len(index["reports"]) + 3 + 2  # + the release's JSON, marts.duckdb + record
    sent = int(again.stdout.split("publish_remote: ", 1)[1].split(" files sent", 1)[0])
    assert 0 < sent <= total - len(before) + 4  # the night's missing files and the pages around them
    assert json.loads(s3.read(f"{PREFIX}/latest.json"))["snapshot_date"] == NIGHT_2
    verified = socorg("verify", nights["url"], env=nights["env"])
    assert verified.returncode == 0 and f"releases/{NIGHT_2}: OK" in verified.stdout, verified.stderr
    broken = f"{PREFIX}/{key('organizations', NIGHT_2)}"
    s3.client().put_object(Bucket=s3.bucket, Key=broken, Body=b"not parquet")
    damaged = socorg("verify", nights["url"], env=nights["env"])
    assert (
        damaged.returncode == 1 and f"{nights['url']}/{broken.split('/', 1)[1]}: 11 bytes" in damaged.stderr
    )
    mended = socorg("publish-remote", "--data", str(nights["data"]), env=nights["env"])
    assert mended.returncode == 0 and "(1 files sent" in mended.stdout, mended.stdout + mended.stderr


def test_retention_applies_on_the_remote_too(nights):
    s3 = nights["s3"]
    pruned = socorg(
        "publish-remote", "--data", str(nights["data"]), "--keep-releases", "1", env=nights["env"]
    )
    assert pruned.returncode == 0, pruned.stderr
    remote = s3.objects(PREFIX)
    assert not [k for k in remote if NIGHT_1 in k]  # 2023-11-01 is the year's last so far: 10-31 goes
    assert json.loads(s3.read(f"{PREFIX}/versions.json"))["releases"][0]["snapshot_date"] == NIGHT_2
    assert len(json.loads(s3.read(f"{PREFIX}/versions.json"))["releases"]) == 1


def test_pandas_polars_and_duckdb_read_the_latest_release_from_the_bucket(nights):
    """As the README shows it."""
    import duckdb
    import pandas as pd
    import polars as pl
    import s3fs

    s3 = nights["s3"]
    latest = json.loads(s3.read(f"{PREFIX}/latest.json"))
    path = f"{nights['url']}/{key('city_summary', latest['snapshot_date'])}"
    frame = pd.read_parquet(path, storage_options=s3.storage_options())
    polars = pl.read_parquet(
        path,
        storage_options={
            "aws_access_key_id": s3.storage_options()["key"],
            "aws_secret_access_key": s3.storage_options()["secret"],
            "aws_endpoint_url": s3.endpoint,
            "aws_region": "us-east-1",
            "aws_allow_http": "true",
        },
    )
    con = duckdb.connect()
    con.register_filesystem(s3fs.S3FileSystem(**s3.storage_options()))
    rows = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
    assert len(frame) == polars.height == rows > 0
    assert set(frame["city_code"]) == set(polars["city_code"])


def test_a_shared_folder_is_a_remote_too(nights, tmp_path):
    shared = tmp_path / "shared" / "socorg"
    done = socorg("publish-remote", "--data", str(nights["data"]), "--url", str(shared), env=nights["env"])
    assert done.returncode == 0, done.stderr
    assert json.loads((shared / "latest.json").read_text())["snapshot_date"] == NIGHT_2
    assert not list(shared.rglob("*.part"))
    verified = socorg("verify", f"file://{shared}", env=nights["env"])
    assert verified.returncode == 0, verified.stderr
