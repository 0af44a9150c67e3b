"""A night re-run with unchanged exports rebuilds nothing; new content, --force or new history rebuild it."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time

import duckdb
import pytest
from runner import marts_content, published_state, socorg

from ingest.common.known_hashes import SETTLED_SECONDS, known_hashes_file
from ingest.common.sql import sql_path
from ingest.land.landing import landing_manifest
from ingest.publish import fingerprint as unchanged

pytestmark = pytest.mark.e2e

NIGHT = "2023-10-31"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Shenzhen's exports for one night, run once through `socorg run` — in a folder whose path holds a
    single quote, a $, spaces and Chinese characters: every path that enters SQL (DuckDB, dbt's
    sources, GX's Data Docs folder) must be quoted."""
    root = tmp_path_factory.mktemp("unchanged") / "it's 社会组织 $HOME 数据"
    env = {**os.environ, "SOCORG_EXPORTS": str(root / "exports"), "SOCORG_DATA": str(root / "data")}
    sampled = socorg("sample", "--out", env["SOCORG_EXPORTS"], "--date", NIGHT, "--city", "shenzhen", env=env)
    assert sampled.returncode == 0, sampled.stderr
    first = socorg("run", "--date", NIGHT, "--json", env=env)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    (root / "first-run.json").write_text(first.stdout, encoding="utf-8")  # --json: the outcome alone
    assert f"socorg run {NIGHT}: published" in first.stderr  # and what a person reads, on stderr
    return root, env


def rerun(published, tmp_path, *extra: str):
    """A copy of the published data folder, and `socorg run` of the same night on it."""
    root, env = published
    data = shutil.copytree(root / "data", tmp_path / "data")
    env = {**env, "SOCORG_DATA": str(data)}
    return data, socorg("run", "--date", NIGHT, *extra, env=env)


def tasks(data) -> dict[str, str]:
    record = json.loads((data / "runs" / NIGHT / "run.json").read_text(encoding="utf-8"))
    return {task: t["state"] for task, t in record["tasks"].items()}


def test_an_unchanged_night_is_not_run_again(published, tmp_path):
    root, _ = published
    before = published_state(root / "data")
    record = (root / "data" / "runs" / NIGHT / "run.json").read_bytes()
    data, again = rerun(published, tmp_path)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert (
        f"socorg run {NIGHT}: {NIGHT} is published and its exports are unchanged since its release; "
        "nothing rebuilt" in again.stdout
    )
    assert "wait_for_registry" not in again.stdout  # Airflow was not started
    assert published_state(data) == before  # not a byte touched, index.json's published_at included
    assert (data / "runs" / NIGHT / "run.json").read_bytes() == record


def test_an_unchanged_night_names_a_file_delivered_since_in_a_folder_no_source_reads(published, tmp_path):
    root, env = published
    exports = shutil.copytree(root / "exports", tmp_path / "exports")
    misspelt = exports / "registries" / NIGHT
    misspelt.mkdir(parents=True)
    registry = sorted((exports / "registry" / NIGHT).iterdir())[0]
    shutil.copy(registry, misspelt / registry.name)
    data = shutil.copytree(root / "data", tmp_path / "data")
    env = {**env, "SOCORG_DATA": str(data), "SOCORG_EXPORTS": str(exports)}
    again = socorg("run", "--date", NIGHT, env=env)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "nothing rebuilt" in again.stdout and "wait_for_registry" not in again.stdout
    assert (
        f"note: 1 file(s) under {exports}/ for {NIGHT} are in folders no source reads, and were not "
        f"landed: registries/{NIGHT}/{registry.name}" in again.stdout
    )


def test_run_json_prints_each_nights_outcome_as_one_line(published, tmp_path):
    root, _ = published
    [line] = (root / "first-run.json").read_text(encoding="utf-8").splitlines()
    first = json.loads(line)
    assert (first["night"], first["exit_code"], first["outcome"], first["state"]) == (
        NIGHT,
        0,
        "published",
        "success",
    )
    assert first["release"] == str(root / "data" / "publish" / "releases" / NIGHT / "index.json")
    assert first["figures"]["440300"]["active_org_count"] > 5000 and first["latest"] == NIGHT
    assert first["tasks"]["publish"] == "success" and first["reason"] is None
    assert {i["kind"] for i in first["issues"]} >= {"quarantine"}
    data, again = rerun(published, tmp_path, "--json")
    [line] = again.stdout.splitlines()
    unchanged = {"night": NIGHT, "exit_code": 0, "outcome": "unchanged", "state": None, "tasks": {},
                 "seconds": None, "latest": NIGHT, "reason": None}  # fmt: skip
    assert json.loads(line) == {
        **unchanged, "release": str(data / "publish" / "releases" / NIGHT / "index.json"),
        "figures": first["figures"], "issues": first["issues"],
    }  # fmt: skip


def test_the_dags_unchanged_night_skips_everything_after_the_pull(published, tmp_path):
    """A scheduled run of an unchanged night (the DAG, not the CLI): landed again, then skipped."""
    from ingest.common.errors import StageSkipped
    from ingest.orchestration import stages

    root, env = published
    before = published_state(root / "data")
    data = shutil.copytree(root / "data", tmp_path / "data")
    night = stages.Night(dt.date.fromisoformat(NIGHT), env["SOCORG_EXPORTS"], data)
    stages.land(night)
    with pytest.raises(StageSkipped) as skipped:
        stages.parse(night)
    assert str(skipped.value).startswith(f"exports unchanged since the release of {NIGHT}")
    assert published_state(data) == before
    landed = json.loads(landing_manifest(data, night.export_date).read_text(encoding="utf-8"))
    assert landed["files"] and all(f["already_landed"] for f in landed["files"])


def test_force_rebuilds_an_unchanged_night_to_the_same_files(published, tmp_path):
    root, _ = published
    before = published_state(root / "data")
    data, forced = rerun(published, tmp_path, "--force")
    assert forced.returncode == 0, forced.stdout[-2000:] + forced.stderr[-2000:]
    assert set(tasks(data).values()) == {"success", "skipped"} and tasks(data)["publish"] == "success"
    after = published_state(data)
    changed = sorted(path for path in after if after[path] != before.get(path))
    # Only the release index (its published_at), versions.json, which repeats it, and the BI database
    # (a DuckDB file is not byte-stable; its content is) with the record of its hash are new.
    assert changed == [
        "publish/marts.duckdb",
        "publish/marts.duckdb.json",
        f"publish/releases/{NIGHT}/index.json",
        "publish/versions.json",
    ]
    assert marts_content(data / "publish") == marts_content(root / "data" / "publish")


def test_a_redelivered_export_with_new_content_rebuilds_the_night(published, tmp_path):
    root, env = published
    exports = shutil.copytree(root / "exports", tmp_path / "exports")
    membership = sorted((exports / "membership" / NIGHT).iterdir())[0]
    membership.write_bytes(membership.read_bytes() + b"\n")
    data = shutil.copytree(root / "data", tmp_path / "data")
    env = {**env, "SOCORG_DATA": str(data), "SOCORG_EXPORTS": str(exports)}
    again = socorg("run", "--date", NIGHT, env=env)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert tasks(data)["parse"] == "success" and tasks(data)["publish"] == "success"
    index = json.loads((data / "publish" / "releases" / NIGHT / "index.json").read_text(encoding="utf-8"))
    assert {"name": membership.name, "version": 2} in [
        {"name": f["name"], "version": f["version"]} for f in index["inputs"]
    ]


def test_a_damaged_release_is_rebuilt(published, tmp_path):
    root, _ = published
    data = shutil.copytree(root / "data", tmp_path / "data")
    city_summary = next((data / "publish" / "city_summary").rglob("*.parquet"))
    city_summary.write_bytes(city_summary.read_bytes()[:-10])
    assert unchanged.unchanged_release(data, dt.date.fromisoformat(NIGHT)) is None
    assert unchanged.unchanged_release(root / "data", dt.date.fromisoformat(NIGHT)).startswith(
        f"exports unchanged since the release of {NIGHT}"
    )


def test_hashes_remembered_by_file_identity_do_not_hide_a_change_of_the_same_size(published, tmp_path):
    """The unchanged check remembers the hashes it read (runs/<date>/known_hashes.json) and does not
    read a file again that was not written to since; an export or a release file rewritten with as
    many bytes is still found changed."""
    root, _ = published
    exports = shutil.copytree(root / "exports", tmp_path / "exports")
    data = shutil.copytree(root / "data", tmp_path / "data")
    night = dt.date.fromisoformat(NIGHT)
    time.sleep(SETTLED_SECONDS + 0.2)  # files copied just now have no identity to remember yet
    assert unchanged.current_release(data, str(exports), night) is not None
    membership = sorted((exports / "membership" / NIGHT).iterdir())[0]
    summary = next((data / "publish" / "city_summary").rglob("*.parquet"))
    known = json.loads(known_hashes_file(data, night).read_text(encoding="utf-8"))
    assert {str(membership), str(summary)} <= set(known)
    assert unchanged.current_release(data, str(exports), night) is not None  # from what it remembers

    delivered = membership.read_bytes()
    membership.write_bytes(delivered[:-1] + (b" " if delivered[-1:] != b" " else b"\n"))
    assert unchanged.current_release(data, str(exports), night) is None
    membership.write_bytes(delivered)
    assert unchanged.current_release(data, str(exports), night) is not None

    published_bytes = bytearray(summary.read_bytes())
    published_bytes[len(published_bytes) // 2] ^= 0xFF
    summary.write_bytes(bytes(published_bytes))
    assert unchanged.unchanged_release(data, night) is None


def test_the_fingerprint_follows_code_inputs_and_the_night_before(published, tmp_path):
    root, _ = published
    data = shutil.copytree(root / "data", tmp_path / "data")
    night = dt.date.fromisoformat(NIGHT)
    stored = json.loads((data / "publish" / "releases" / NIGHT / "index.json").read_text(encoding="utf-8"))
    assert unchanged.night_fingerprint(data, night) == stored["fingerprint"]
    assert unchanged.night_fingerprint(data, night, code="other code") != stored["fingerprint"]
    # An earlier release appears (a backfilled night before this one): the history differs.
    earlier = data / "publish" / "releases" / "2023-10-30"
    earlier.mkdir()
    (earlier / "index.json").write_text(json.dumps({"fingerprint": "an earlier night"}), encoding="utf-8")
    assert unchanged.night_fingerprint(data, night) != stored["fingerprint"]
    assert unchanged.unchanged_release(data, night) is None
    # Another export delivered for the night: different inputs.
    shutil.rmtree(earlier)
    manifest = landing_manifest(data, night)
    landed = json.loads(manifest.read_text(encoding="utf-8"))
    landed["files"][0]["sha256"] = "0" * 64
    manifest.write_text(json.dumps(landed), encoding="utf-8")
    assert unchanged.night_fingerprint(data, night) != stored["fingerprint"]


def test_the_night_ran_and_published_in_a_quoted_spaced_chinese_path(published):
    root, env = published
    data = root / "data"
    latest = json.loads((data / "publish" / "latest.json").read_text(encoding="utf-8"))
    assert latest["snapshot_date"] == NIGHT
    summary = data / "publish" / "city_summary" / f"snapshot_date={NIGHT}" / "city_summary.parquet"
    rows = duckdb.sql(f"select city_code, active_org_count from read_parquet({sql_path(summary)})").fetchall()
    assert [code for code, _ in rows] == ["440300"] and rows[0][1] > 6000
    with duckdb.connect(str(data / "publish" / "marts.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from organizations").fetchall()[0][0] > 6000
    assert (data / "docs" / "gx" / "index.html").exists()  # GX kept the $HOME in the path as written
    verified = socorg("verify", "latest", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
