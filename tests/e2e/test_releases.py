"""Releases: index, statistics and issues per night, versions, retention, verify, marts.duckdb, catalog."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import duckdb
import pyarrow.parquet as pq
import pytest
from runner import FIRST_NIGHT, published_state, socorg

from ingest.publish.datasets import DATASETS, dataset_path
from ingest.publish.night import publish_night

pytestmark = pytest.mark.e2e
NIGHT = dt.date.fromisoformat(FIRST_NIGHT)


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def republish_as(data, night: dt.date, keep_releases: int | None = None) -> dict:
    """Publish the warehouse's marts again under another night (its landing record copied along):
    enough to exercise releases, retention and the marts.duckdb swap without another run."""
    for record in ("landed.json", "dbt_nodes.json"):
        copy = data / "runs" / night.isoformat() / record
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / "runs" / FIRST_NIGHT / record, copy)
    return publish_night(data, night, keep_releases)


@pytest.fixture
def data(first_night, tmp_path):
    """A copy of the session's published night to change."""
    return shutil.copytree(first_night["data"], tmp_path / "data")


def test_the_index_lists_every_file_with_rows_bytes_hash_and_arrow_schema(first_night):
    publish = first_night["data"] / "publish"
    index = read(publish / "releases" / FIRST_NIGHT / "index.json")
    assert [f["dataset"] for f in index["files"]] == list(DATASETS)
    for entry in index["files"]:
        path = publish / entry["path"]
        schema = pq.read_schema(path)
        assert entry["rows"] == pq.read_metadata(path).num_rows
        assert entry["bytes"] == path.stat().st_size
        assert [(c["name"], c["type"]) for c in entry["schema"]] == [(f.name, str(f.type)) for f in schema]
    organizations = next(f for f in index["files"] if f["dataset"] == "organizations")
    assert {"name": "rating", "type": "int8", "nullable": True} in organizations["schema"]


def test_statistics_hold_rows_null_shares_and_the_headline_figures(first_night, suzhou_figures):
    publish = first_night["data"] / "publish"
    statistics = read(publish / "releases" / FIRST_NIGHT / "statistics.json")
    index = read(publish / "releases" / FIRST_NIGHT / "index.json")
    assert {d: s["rows"] for d, s in statistics["datasets"].items()} == {
        f["dataset"]: f["rows"] for f in index["files"]
    }
    path = dataset_path(publish, "organizations", NIGHT)
    nulls = duckdb.sql(f"select avg((supervising_unit is null)::int) from read_parquet('{path}')").fetchall()
    assert statistics["datasets"]["organizations"]["null_share"]["supervising_unit"] == round(nulls[0][0], 4)
    assert 0 < nulls[0][0] < 1
    suzhou = statistics["headline"]["cities"]["320500"]
    assert {k: suzhou[k] for k in suzhou_figures} == suzhou_figures
    assert (suzhou["city_name"], suzhou["funded_cluster_association_share"]) == ("苏州市", 0.36)
    methods = statistics["headline"]["memberships_by_match_method"]
    assert sum(m["rows"] for m in methods.values()) == statistics["datasets"]["memberships"]["rows"]


def test_issues_list_the_nights_quarantined_rows_by_source_and_reason(first_night):
    publish = first_night["data"] / "publish"
    issues = read(publish / "releases" / FIRST_NIGHT / "issues.json")["issues"]
    quarantined = {}
    for issue in issues:
        if issue["kind"] == "quarantine":
            quarantined[issue["source"]] = quarantined.get(issue["source"], 0) + issue["rows"]
    loads = dataset_path(publish, "loads", NIGHT)
    expected = dict(
        duckdb.sql(
            f"select source, sum(rows_quarantined)::int from read_parquet('{loads}') "
            "group by all having sum(rows_quarantined) > 0"
        ).fetchall()
    )
    assert quarantined == expected
    assert len(first_night["truth"]["quarantine"]) == sum(expected.values())
    assert any(i["message"] == "6 rows quarantined: duplicate_credit_code" for i in issues)


def test_publishing_the_same_night_again_gives_byte_identical_files(data):
    before = published_state(data)
    publish_night(data, NIGHT)
    after = published_state(data)
    moving = {
        f"publish/releases/{FIRST_NIGHT}/index.json",
        "publish/versions.json",
        "publish/marts.duckdb",
        "publish/marts.duckdb.json",  # the hash of marts.duckdb, whose bytes DuckDB does not reproduce
    }
    assert {k: v for k, v in after.items() if k not in moving} == {
        k: v for k, v in before.items() if k not in moving
    }
    assert sum(p.endswith(".parquet") for p in after) == len(DATASETS)


def test_versions_list_every_release_and_retention_prunes_the_oldest(data):
    publish = data / "publish"
    later = [NIGHT + dt.timedelta(days=k) for k in (1, 2)]
    for night in later:
        republish_as(data, night)
    versions = read(publish / "versions.json")
    assert [r["snapshot_date"] for r in versions["releases"]] == ["2023-11-02", "2023-11-01", FIRST_NIGHT]
    assert versions["latest"] == "2023-11-02"

    result = republish_as(data, later[-1], keep_releases=2)
    assert result["pruned"] == [FIRST_NIGHT]
    versions = read(publish / "versions.json")
    assert [r["snapshot_date"] for r in versions["releases"]] == ["2023-11-02", "2023-11-01"]
    assert not (publish / "releases" / FIRST_NIGHT).exists()
    assert not list(publish.glob(f"*/*={FIRST_NIGHT}"))
    assert all(dataset_path(publish, d, "2023-11-01").exists() for d in DATASETS)
    assert read(publish / "latest.json")["snapshot_date"] == "2023-11-02"
    assert list((data / "tmp").iterdir()) == []


def test_an_older_night_published_late_does_not_move_latest_or_marts_duckdb(data):
    publish = data / "publish"
    republish_as(data, NIGHT + dt.timedelta(days=1))
    before = published_state(data)["publish/marts.duckdb"]
    republish_as(data, NIGHT - dt.timedelta(days=1))
    assert read(publish / "latest.json")["snapshot_date"] == "2023-11-01"
    assert published_state(data)["publish/marts.duckdb"] == before
    assert read(publish / "versions.json")["releases"][-1]["snapshot_date"] == "2023-10-30"


def test_verify_says_ok_or_names_the_file_that_differs(data, first_night):
    env = {**first_night["env"], "SOCORG_DATA": str(data)}
    ok = socorg("verify", FIRST_NIGHT, env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith(f"OK, {len(DATASETS) + 2} files match index.json")  # and the report
    assert socorg("verify", "latest", env=env).returncode == 0

    damaged = dataset_path(data / "publish", "clusters", NIGHT)
    content = bytearray(damaged.read_bytes())
    content[100] ^= 0xFF
    damaged.write_bytes(bytes(content))
    failed = socorg("verify", str(data / "publish" / "releases" / FIRST_NIGHT), env=env)
    assert failed.returncode == 1
    assert "FAILED" in failed.stderr
    assert f"clusters/snapshot_date={FIRST_NIGHT}/clusters.parquet: sha256 " in failed.stderr
    assert "organizations" not in failed.stderr
    workbook = data / "publish" / "reports" / FIRST_NIGHT / f"socorg_{FIRST_NIGHT}.xlsx"
    workbook.write_bytes(workbook.read_bytes() + b"\0")
    failed = socorg("verify", FIRST_NIGHT, env=env)
    assert f"reports/{FIRST_NIGHT}/socorg_{FIRST_NIGHT}.xlsx: sha256 " in failed.stderr


def test_marts_duckdb_has_a_table_per_dataset_with_comments(first_night):
    publish = first_night["data"] / "publish"
    index = read(publish / "releases" / FIRST_NIGHT / "index.json")
    with duckdb.connect(str(publish / "marts.duckdb"), read_only=True) as con:
        counts = {d: con.execute(f'select count(*) from "{d}"').fetchall()[0][0] for d in DATASETS}
        assert counts == {f["dataset"]: f["rows"] for f in index["files"]}
        comment = con.execute(
            "select comment from duckdb_columns() where table_name = 'organizations' "
            "and column_name = 'credit_code'"
        ).fetchall()[0][0]
        assert comment == (
            "Unified social credit code; null in a snapshot from before credit codes. 统一社会信用代码"
        )
        tables = dict(con.execute("select table_name, comment from duckdb_tables()").fetchall())
        assert all(tables[d] for d in DATASETS), tables


def test_a_bi_tool_holding_marts_duckdb_keeps_its_release_while_the_next_is_swapped_in(data):
    marts = data / "publish" / "marts.duckdb"
    reader = duckdb.connect(str(marts), read_only=True)
    try:
        query = "select count(*), min(snapshot_date), max(snapshot_date) from organizations"
        before = reader.execute(query).fetchall()
        assert before[0][0] > 10_000 and before[0][1:] == (NIGHT, NIGHT)
        republish_as(data, NIGHT + dt.timedelta(days=1))
        assert reader.execute(query).fetchall() == before
    finally:
        reader.close()
    with duckdb.connect(str(marts), read_only=True) as fresh:
        assert fresh.execute("select distinct snapshot_date from organizations").fetchall() == [
            (NIGHT + dt.timedelta(days=1),)
        ]
    assert not list(marts.parent.glob("*.wal")) and not list(marts.parent.glob(".*"))


def test_the_catalog_page_rendered_in_chromium_lists_every_dataset_and_figure(first_night, chromium):
    page = first_night["data"] / "docs" / "index.html"
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    index = read(first_night["data"] / "publish" / "releases" / FIRST_NIGHT / "index.json")
    assert f'<strong id="latest">{FIRST_NIGHT}</strong>' in html
    for entry in index["files"]:
        assert f'<section id="{entry["dataset"]}">' in html
        assert f"{entry['dataset']}</a> — {entry['rows']:,} rows" in html
    assert '<td class="num">7,724</td>' in html  # Suzhou's active organizations
    assert '<th>苏州市 <span class="code">320500</span></th>' in html  # a city by its name
    assert '<td class="num">36.0%</td>' in html  # the share of funded cluster associations
    assert "社会组织：每个登记的社会组织一行" in html  # the Chinese description
    assert 'href="dbt/index.html"' in html and 'href="gx/index.html"' in html
    assert "pd.read_parquet(" in html and "pl.read_parquet(" in html and "duckdb.sql(" in html
    assert "passed the quality gate" in html
