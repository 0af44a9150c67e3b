"""`make bench`'s floor and peer compute what the pipeline publishes, and the bench reports all three."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import replace

import duckdb
import pytest

from ingest.common.paths import PROJECT_ROOT
from ingest.sample.scale import Scale, write_scale

DATE = dt.date(2023, 10, 31)
BENCH = PROJECT_ROOT / "bench"
# Thirteen Jiangsu cities: registries in UTF-8, GB18030 and UTF-8 with BOM, Suzhou's as a workbook;
# Suzhou's clusters; the province's own registrations (in no city).
TINY = Scale(organizations=2_000, memberships=8_000, province="320000")
TINY = replace(TINY, spreadsheet_city="320500", province_registry=True)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "exports"
    return out, write_scale(out, DATE, "province", progress=False, scale=TINY)


def run_script(name: str, exports, out) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / name),
            "--exports",
            str(exports),
            "--date",
            DATE.isoformat(),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


FIGURES = (
    "active_org_count, social_group_count, social_service_org_count, foundation_count, cluster_count, "
    "cluster_association_count, cluster_member_enterprise_count, listed_count, srdi_count, high_tech_count"
)


def summaries(marts) -> dict[str, tuple]:
    query = f"select city_code, {FIGURES} from read_parquet('{marts}/city_summary.parquet') order by 1"
    return {row[0]: row[1:] for row in duckdb.sql(query).fetchall()}


@pytest.mark.parametrize("script", ["floor.py", "peer.py"])
def test_the_plain_scripts_reproduce_the_generated_truth(exports, script, tmp_path):
    out, truth = exports
    report = run_script(script, out, tmp_path / "out")
    assert (out / "registry" / DATE.isoformat() / "registry_320500_20231031.xlsx").exists()
    assert report["rows"]["registry"] == report["rows"]["organizations"] == truth["rows"]["registry"]
    assert truth["rows"]["registry"] == TINY.organizations + 40  # 2 % registered by the province itself
    assert report["rows"]["membership"] == report["rows"]["memberships"] == TINY.memberships
    assert set(report["stages"]) == {"read exports → Parquet", "marts → Parquet"}
    figures = summaries(report["marts"])
    for code, city in truth["cities"].items():
        active = (city["active_org_count"], city["social_group_count"], city["social_service_org_count"])
        assert figures[code][:3] == active, code
    assert figures["320500"][4] == 25  # Suzhou's designated cluster associations, all registered
    assert "320000" not in figures  # the province's own registrations count in no city


def test_the_floor_and_the_peer_agree_on_every_figure(exports, tmp_path):
    out, _ = exports
    floor = run_script("floor.py", out, tmp_path / "floor")
    peer = run_script("peer.py", out, tmp_path / "peer")
    assert summaries(floor["marts"]) == summaries(peer["marts"])
    assert floor["rows"] == peer["rows"]


def run_bench(script: str, tmp_path, *args: str) -> str:
    """Run a bench script into a RESULTS.md holding another section; the file's text afterwards (the
    other section kept as it was)."""
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Ingest: kept as it was\n\nfigures\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--out", str(tmp_path / "bench"),
         "--results", str(results)],
        capture_output=True, text=True, cwd=BENCH.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = results.read_text(encoding="utf-8")
    assert "## Ingest: kept as it was\n\nfigures\n" in text
    return text


@pytest.mark.e2e
def test_the_bench_runs_ours_the_floor_and_the_peer_and_writes_the_results(tmp_path):
    text = run_bench("nightly.py", tmp_path, "--sizes", "city")
    assert "### city: 1 city, 8,000 organizations, 15,000 memberships" in text
    assert "all three agree on every figure of the city's summary, and with the generator's truth" in text
    assert "| city night ≤ 15 s end to end through socorg run |" in text
    assert "| city: the three agree (equal work) | yes | met |" in text
    assert "ours, the first night of a new data folder (not compared)" in text
    result = json.loads((tmp_path / "bench" / "city" / "result.json").read_text(encoding="utf-8"))
    assert result["ours"]["tasks"]["publish"]["state"] == "success"
    assert result["first"]["tasks"]["publish"]["state"] == "success" and result["agree"] is True
    assert result["rerun"]["skipped_before_airflow"] is True
    assert "exports compared with the release" in text
    assert result["floor"]["rows"]["memberships"] == result["peer"]["rows"]["memberships"] == 15_000
    assert result["floor"]["peak_mib"] > 0 and result["ours"]["peak_mib"] > 0


def test_the_workbook_bench_reads_every_row_both_ways_and_writes_its_section(tmp_path):
    text = run_bench("workbooks.py", tmp_path, "--rows", "300")
    assert "## Workbooks: a national-size registry as .xlsx" in text
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    # a title, the header, 300 rows and the footer: every one read by both readers; 300 data rows typed
    assert [line for line in lines if "openpyxl read-only" in line][0].startswith("| openpyxl")
    assert "| 303 |" in [line for line in lines if "openpyxl read-only" in line][0]
    assert "| 303 |" in [line for line in lines if line.startswith("| calamine")][0]
    assert "| 300 |" in [line for line in lines if line.startswith("| our parse")][0]
