"""`socorg --version` says the installed version, as pyproject.toml gives it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path


def test_version():
    project = tomllib.loads((Path(__file__).resolve().parents[3] / "pyproject.toml").read_text())["project"]
    done = subprocess.run([sys.executable, "-m", "ingest.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"socorg {project['version']}"
