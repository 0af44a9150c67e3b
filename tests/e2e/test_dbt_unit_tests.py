"""dbt's unit tests run here, in `make test` and CI, not in the nightly build (dbt's advice for
production): against a copy of the published night's warehouse, where every model they test exists."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from runner import FIRST_NIGHT

pytestmark = pytest.mark.e2e
PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def dbt(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOCORG_DATA": str(data), "SOCORG_SNAPSHOT_DATE": FIRST_NIGHT}
    command = [str(Path(sys.executable).with_name("dbt")), *args, "--profiles-dir", "."]
    command += ["--target-path", str(data / "target"), "--log-path", str(data / "logs")]
    return subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)


def declared_unit_tests() -> set[str]:
    """The names of the unit tests the project's YAML files declare."""
    import yaml

    names = set()
    for path in (PROJECT / "models").rglob("*.yml"):
        names |= {
            t["name"] for t in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", [])
        }
    return names


def test_every_dbt_unit_test_passes(first_night, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(first_night["data"] / "raw", data / "raw")
    shutil.copyfile(first_night["data"] / "warehouse.duckdb", data / "warehouse.duckdb")
    listed = dbt("--quiet", "ls", "--resource-type", "unit_test", "--output", "name", data=data)
    assert listed.returncode == 0, listed.stdout[-2000:]
    names = set(listed.stdout.split())
    assert names == declared_unit_tests() and len(names) >= 15
    done = dbt("test", "--select", "test_type:unit", data=data)
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"PASS={len(names)} WARN=0 ERROR=0 SKIP=0" in done.stdout, done.stdout[-2000:]


def test_the_nightly_build_runs_no_unit_test(first_night):
    """The published night's `dbt build`: models and data tests, no unit test (its summary line, in the
    night's log: dbt writes no dbt.log of its own)."""
    night = first_night["data"] / "runs"
    assert not (night / "dbt" / "logs" / "dbt.log").exists()
    [night_log] = [p for p in night.glob("*/airflow.log")]
    log = night_log.read_text(encoding="utf-8")
    [summary] = [line for line in log.splitlines() if "Finished running" in line and "table models" in line]
    assert "data tests" in summary and "unit test" not in summary, summary
