"""House style is checked like any other behaviour: ruff for Python, sqlfluff for the dbt SQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args: str, cwd: Path = PROJECT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)


def test_ruff_check_and_format():
    check = run(str(BIN / "ruff"), "check", ".")
    assert check.returncode == 0, check.stdout
    fmt = run(str(BIN / "ruff"), "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout


def test_sqlfluff_on_the_dbt_models(tmp_path):
    env = {**os.environ, "SOCORG_DATA": str(tmp_path), "SOCORG_SNAPSHOT_DATE": "2023-10-31"}  # any night
    lint = run(
        str(BIN / "sqlfluff"), "lint", "models", "tests/reconciliation", cwd=PROJECT / "dbt_project", env=env
    )
    assert lint.returncode == 0, lint.stdout[-3000:]
    assert "Skipped file" not in lint.stdout + lint.stderr, (
        "sqlfluff could not compile a model: " + lint.stdout[-3000:]
    )
