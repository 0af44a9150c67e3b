"""A night runs and publishes with an exports root and a data folder whose paths hold a single quote, a $,
spaces and Chinese characters: every path that enters SQL (DuckDB, dbt's sources, PostgreSQL's load)
is quoted."""

from __future__ import annotations

import json
import os

import duckdb
import pytest
from runner import socorg

from ingest.common.sql import sql_path

pytestmark = pytest.mark.e2e

NIGHT = "2023-10-31"


def test_a_night_runs_and_publishes_from_and_into_quoted_spaced_chinese_paths(tmp_path):
    root = tmp_path / "it's 社会组织 data"
    exports, data = root / "导出 exports", root / "数据 folder's $HOME"  # GX substitutes $names
    env = {**os.environ, "SOCORG_EXPORTS": str(exports), "SOCORG_DATA": str(data)}
    sampled = socorg("sample", "--out", str(exports), "--date", NIGHT, "--city", "shenzhen", env=env)
    assert sampled.returncode == 0, sampled.stderr
    done = socorg("run", "--date", NIGHT, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    latest = json.loads((data / "publish" / "latest.json").read_text(encoding="utf-8"))
    assert latest["snapshot_date"] == NIGHT
    summary = data / "publish" / "city_summary" / f"snapshot_date={NIGHT}" / "city_summary.parquet"
    rows = duckdb.sql(f"select city_code, active_org_count from read_parquet({sql_path(summary)})").fetchall()
    assert [code for code, _ in rows] == ["440300"] and rows[0][1] > 6000
    with duckdb.connect(str(data / "publish" / "marts.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from organizations").fetchall()[0][0] > 6000
    assert (data / "docs" / "gx" / "index.html").exists()  # the $HOME in the path kept as written
    verified = socorg("verify", "latest", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "it's 社会组织 data" in done.stdout  # the paths are printed as they are
