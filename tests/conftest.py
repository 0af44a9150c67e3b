"""Shared fixtures: the shared reference folder and small export files written per test."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from runner import FIRST_NIGHT, Webhook, socorg

OPENLINEAGE_SETTING = "AIRFLOW__OPENLINEAGE__TRANSPORT"  # Airflow's OpenLineage provider reads it
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


def built_once(tmp_path_factory, name: str, build) -> dict:
    """An expensive fixture built once for the whole test run, in a folder every pytest-xdist worker
    reads (tests never write into it: they copy it): the first worker to ask builds it under a lock,
    the others wait and take what it recorded. `build(folder)` returns JSON-able facts about it."""
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's base folder, above each worker's own
    folder, record = root / f"once-{name}", root / f"once-{name}.json"
    with (root / f"once-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            folder.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps(build(folder)), encoding="utf-8")
    return json.loads(record.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def shenzhen_two_nights(tmp_path_factory) -> Path:
    """Two nights of Shenzhen sample exports from FIRST_NIGHT, 16 registry changes between them."""
    return Path(built_once(tmp_path_factory, "shenzhen-two-nights", _shenzhen_two_nights)["root"])


def _shenzhen_two_nights(root: Path) -> dict:
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
    return {"root": str(root)}


@pytest.fixture(scope="session")
def first_night(tmp_path_factory) -> dict:
    """Sample exports for 2023-10-31 run through `socorg run` once per test run: a published night.

    It is never written into: a test that runs a night or changes a file works on a copy (`own_copy`).
    """
    import subprocess

    built = built_once(tmp_path_factory, "first-night", _first_night)
    exports, data = Path(built["exports"]), Path(built["data"])
    env = {**os.environ, "SOCORG_DATA": str(data), "SOCORG_EXPORTS": str(exports)}
    run = subprocess.CompletedProcess(built["args"], 0, built["stdout"], built["stderr"])
    truth = json.loads((exports / "_truth" / f"{FIRST_NIGHT}.json").read_text(encoding="utf-8"))
    return {"exports": exports, "data": data, "env": env, "run": run, "truth": truth,
            "lineage": Path(built["lineage"]), "lineage_posts": Path(built["lineage_posts"])}  # fmt: skip


def _first_night(root: Path) -> dict:
    """Run with OpenLineage configured the standard way: events to a file and to a receiver on loopback
    that answers where Marquez does (tests/e2e/test_lineage.py reads both)."""
    exports, data = root / "exports", root / "data"
    env = {**os.environ, "SOCORG_DATA": str(data), "SOCORG_EXPORTS": str(exports)}
    sampled = socorg("sample", "--out", str(exports), "--date", FIRST_NIGHT, env=env)
    assert sampled.returncode == 0, sampled.stderr
    with Webhook() as marquez:
        transports = [
            {"type": "file", "log_file_path": str(root / "lineage.jsonl"), "append": True},
            {"type": "http", "url": marquez.url.removesuffix("/alerts"), "endpoint": "api/v1/lineage"},
        ]
        lineage = {"type": "composite", "transports": transports}
        run = socorg("run", "--date", FIRST_NIGHT, env={**env, OPENLINEAGE_SETTING: json.dumps(lineage)})
        (root / "lineage-posts.json").write_text(json.dumps(marquez.posts, ensure_ascii=False), "utf-8")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return {"exports": str(exports), "data": str(data), "args": run.args, "stdout": run.stdout,
            "stderr": run.stderr, "lineage": str(root / "lineage.jsonl"),
            "lineage_posts": str(root / "lineage-posts.json")}  # fmt: skip


# An archive as a bureau keeps it: year-end snapshots from before credit codes (registration numbers
# alone in 2014, credit codes beside them in 2016), the associations' lists only from 2021, and tonight.
ARCHIVE = ("2014-12-31", "2016-12-31", "2020-12-31", "2021-12-31", "2022-12-31", FIRST_NIGHT)


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> dict:
    """Shenzhen's archive (ARCHIVE) loaded with one `socorg run --all`, once per test run; never written
    into (a test that runs nights works on a copy)."""
    import subprocess

    built = built_once(tmp_path_factory, "archive", _archive)
    exports, data = Path(built["exports"]), Path(built["data"])
    env = {**os.environ, "SOCORG_DATA": str(data), "SOCORG_EXPORTS": str(exports)}
    run = subprocess.CompletedProcess(built["args"], built["returncode"], built["stdout"], built["stderr"])
    truths = {d: json.loads((exports / "_truth" / f"{d}.json").read_text(encoding="utf-8")) for d in ARCHIVE}
    return {"exports": exports, "data": data, "env": env, "run": run, "truths": truths}


def _archive(root: Path) -> dict:
    exports, data = root / "exports", root / "data"
    env = {**os.environ, "SOCORG_DATA": str(data), "SOCORG_EXPORTS": str(exports)}
    sampled = socorg(
        "sample", "--out", str(exports), "--dates", ",".join(ARCHIVE), "--city", "shenzhen", env=env
    )
    assert sampled.returncode == 0, sampled.stderr
    run = socorg("run", "--all", env=env)
    return {"exports": str(exports), "data": str(data), "args": run.args, "returncode": run.returncode,
            "stdout": run.stdout, "stderr": run.stderr}  # fmt: skip


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
