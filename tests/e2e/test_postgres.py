"""`socorg publish-postgres` and the DAG's publish_postgres task against a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import psycopg
import pytest
from runner import FIRST_NIGHT, socorg

from ingest.publish.datasets import DATASETS, dataset_path

pytestmark = pytest.mark.e2e
NIGHT = dt.date.fromisoformat(FIRST_NIGHT)


def test_a_release_loads_whole_with_comments_and_a_broken_one_changes_nothing(
    first_night, postgres_dsn, tmp_path
):
    data = shutil.copytree(first_night["data"], tmp_path / "data")
    env = {**first_night["env"], "SOCORG_DATA": str(data)}
    loaded = socorg("publish-postgres", "--dsn", postgres_dsn, "--schema", "marts_test", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert f"release {FIRST_NIGHT} is now schema marts_test ({len(DATASETS)} tables" in loaded.stdout

    publish = data / "publish"
    index = json.loads((publish / "releases" / FIRST_NIGHT / "index.json").read_text(encoding="utf-8"))
    with psycopg.connect(postgres_dsn) as conn:
        for entry in index["files"]:
            count = conn.execute(f'select count(*) from marts_test."{entry["dataset"]}"').fetchone()[0]
            assert count == entry["rows"], entry["dataset"]
        orgs = dataset_path(publish, "organizations", NIGHT)
        expected = duckdb.sql(
            f"select credit_code, org_name, rating, registered_on, registered_capital, supervising_unit, "
            f"is_active from read_parquet('{orgs}') order by credit_code"
        ).fetchall()
        found = conn.execute(
            "select credit_code, org_name, rating, registered_on, registered_capital, supervising_unit, "
            "is_active from marts_test.organizations order by credit_code"
        ).fetchall()
        assert found == expected
        comment = conn.execute("select obj_description('marts_test.city_summary'::regclass)").fetchone()[0]
        assert comment.startswith("One row per city")
        release = conn.execute("select snapshot_date::text from marts_test._release").fetchone()
        assert release == (FIRST_NIGHT,)

    damaged = dataset_path(publish, "memberships", NIGHT)
    damaged.write_bytes(damaged.read_bytes()[:-100])
    refused = socorg("publish-postgres", "--dsn", postgres_dsn, "--schema", "marts_test", env=env)
    assert refused.returncode == 1
    assert "does not match its index.json" in refused.stderr
    assert "memberships/snapshot_date=2023-10-31/memberships.parquet: sha256" in refused.stderr
    with psycopg.connect(postgres_dsn) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts_test'"
        ).fetchall()
        assert {t for (t,) in tables} == {*DATASETS, "_release"}
        assert conn.execute("select count(*) from marts_test.memberships").fetchone()[0] > 20_000


def test_the_dags_publish_postgres_task_loads_the_night_when_the_connection_exists(
    first_night, postgres_dsn, tmp_path
):
    data = shutil.copytree(first_night["data"], tmp_path / "data")
    env = {**first_night["env"], "SOCORG_DATA": str(data), "AIRFLOW_CONN_SOCORG_POSTGRES": postgres_dsn}
    # The night is published and its exports unchanged: only the connection is new. PostgreSQL is
    # loaded all the same, without Airflow.
    unchanged = socorg("run", "--date", FIRST_NIGHT, env=env)
    assert unchanged.returncode == 0, unchanged.stdout[-2000:] + unchanged.stderr[-2000:]
    assert "exports are unchanged since its release; nothing rebuilt" in unchanged.stdout
    assert "publish_postgres: loaded" in unchanged.stdout and "into schema socorg" in unchanged.stdout
    assert "publish_postgres: success" not in unchanged.stdout
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute("drop schema socorg cascade")
    # Built again through the DAG, whose publish_postgres task loads the night.
    run = socorg("run", "--date", FIRST_NIGHT, "--force", env=env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "publish_postgres: success" in run.stdout
    with psycopg.connect(postgres_dsn) as conn:
        assert conn.execute("select snapshot_date::text from socorg._release").fetchone()[0] == FIRST_NIGHT
        figures = dict(conn.execute("select city_code, active_org_count from socorg.city_summary").fetchall())
    assert figures["320500"] == 7724
    # The same night again: nothing rebuilt, and PostgreSQL, which holds the release, is not reloaded.
    with psycopg.connect(postgres_dsn) as conn:
        loaded_at = conn.execute("select loaded_at from socorg._release").fetchone()[0]
    again = socorg("run", "--date", FIRST_NIGHT, env=env)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "nothing rebuilt" in again.stdout and "publish_postgres" not in again.stdout
    with psycopg.connect(postgres_dsn) as conn:
        assert conn.execute("select loaded_at from socorg._release").fetchone()[0] == loaded_at
