"""Shared fixtures: the shared reference folder and small export files written per test."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from runner import FIRST_NIGHT, socorg

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


@pytest.fixture(scope="session")
def shenzhen_two_nights(tmp_path_factory) -> Path:
    """Two nights of Shenzhen sample exports from FIRST_NIGHT, 16 registry changes between them."""
    root = tmp_path_factory.mktemp("shenzhen-two-nights")
    done = socorg(
        "sample",
        "--out",
        str(root),
        "--date",
        FIRST_NIGHT,
        "--nights",
        "2",
        "--city",
        "shenzhen",
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture(scope="session")
def first_night(tmp_path_factory) -> dict:
    """Sample exports for 2023-10-31 run through `socorg run` once per session: a published night.

    It is never written into: a test that runs a night or changes a file works on a copy (`own_copy`).
    """
    root = tmp_path_factory.mktemp("first-night")
    exports, data = root / "exports", root / "data"
    env = {**os.environ, "SOCORG_DATA": str(data), "SOCORG_EXPORTS": str(exports)}
    sampled = socorg("sample", "--out", str(exports), "--date", FIRST_NIGHT, env=env)
    assert sampled.returncode == 0, sampled.stderr
    run = socorg("run", "--date", FIRST_NIGHT, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    truth = json.loads((exports / "_truth" / f"{FIRST_NIGHT}.json").read_text(encoding="utf-8"))
    return {"exports": exports, "data": data, "env": env, "run": run, "truth": truth}


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium, which `make test` installs when it is missing."""
    import shutil

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is not installed: `make system-deps` installs Debian's chromium package")
    return found


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """A real PostgreSQL server on loopback for the session (Debian's postgresql package)."""
    from postgres_server import PostgresServer, postgres_bin

    binaries = postgres_bin()
    if binaries is None:
        pytest.fail("PostgreSQL is not installed: `make system-deps` installs Debian's postgresql package")
    with PostgresServer(binaries) as server:
        yield server.dsn


def pytest_configure(config):
    """Airflow's home for the test session lives in a temporary folder, never in the checkout; with
    pytest-xdist (`make test` runs two workers), each worker has its own home and metadata DB, so that
    runs of the same logical date in two workers never meet."""
    import tempfile

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("SOCORG_TEST_AIRFLOW_WORKER") != worker:
        os.environ["SOCORG_TEST_AIRFLOW_HOME"] = tempfile.mkdtemp(prefix=f"socorg-airflow-{worker}-")
        os.environ["SOCORG_TEST_AIRFLOW_WORKER"] = worker
    if "SOCORG_TEST_AIRFLOW_HOME" not in os.environ:
        os.environ["SOCORG_TEST_AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="socorg-airflow-")
    os.environ["AIRFLOW_HOME"] = os.environ["SOCORG_TEST_AIRFLOW_HOME"]
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    # Exports written by a test are whole when it starts a run; tests of arrival set their own.
    os.environ.setdefault("SOCORG_SETTLE_SECONDS", "0")
