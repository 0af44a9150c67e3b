"""Shared fixtures: the shared reference folder and small export files written per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SOCORG_SHARED", PROJECT.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.exists():
        pytest.skip(f"shared reference folder not found at {SHARED}")
    return SHARED


def pytest_configure(config):
    """Airflow's home for the test session lives in a temporary folder, never in the checkout."""
    import tempfile

    if "SOCORG_TEST_AIRFLOW_HOME" not in os.environ:
        os.environ["SOCORG_TEST_AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="socorg-airflow-")
    os.environ["AIRFLOW_HOME"] = os.environ["SOCORG_TEST_AIRFLOW_HOME"]
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
