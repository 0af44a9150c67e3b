"""Shared fixtures: the shared reference folder and small export files written per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SOCORG_SHARED", PROJECT.parent / "shared"))


# The figures of Suzhou's 2023 report (domain.md) that the sample and the marts must reproduce.
SUZHOU_2023 = {
    "active_org_count": 7724,
    "social_group_count": 3329,
    "social_service_org_count": 4324,
    "foundation_count": 71,
    "cluster_count": 25,
    "clusters_with_association": 25,
    "cluster_association_count": 25,
    "cluster_member_enterprise_count": 11849,
    "listed_count": 191,
    "leading_count": 308,
    "srdi_count": 292,
    "high_tech_count": 1127,
    "top100_private_count": 59,
}


@pytest.fixture(scope="session")
def suzhou_figures() -> dict[str, int]:
    return dict(SUZHOU_2023)


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
