"""Every failure reported, whatever failed: a full disk, damaged state, exports still being written,
and never a personal value in a message."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pytest
from runner import FIRST_NIGHT, Webhook, published_state, socorg

pytestmark = pytest.mark.e2e
SECOND_NIGHT = "2023-11-01"
LEFTOVERS = ("*.part", "*.tmp", ".staging-*", "*.old")


@pytest.fixture(scope="module")
def exports(shenzhen_two_nights):
    return shenzhen_two_nights


def env_for(data: Path, exports: Path, **settings: str) -> dict:
    return {**os.environ, "SOCORG_DATA": str(data), "SOCORG_EXPORTS": str(exports), **settings}


def leftovers(data: Path) -> list[Path]:
    return [p for pattern in LEFTOVERS for p in data.rglob(pattern)] + list((data / "tmp").glob("*"))


def assert_reported(run: subprocess.CompletedProcess, *phrases: str) -> None:
    """A failed run that said why, in plain words, with no traceback."""
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    for phrase in phrases:
        assert phrase in output, output[-3000:]


@pytest.fixture
def small_disk(tmp_path):
    """A 160 MiB tmpfs: a disk that fills up for real."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode()[:200]}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave_mib: float) -> Path:
    """A ballast file that leaves about `leave_mib` MiB free on the disk."""
    ballast = disk / "ballast"
    free = shutil.disk_usage(disk).free - int(leave_mib * (1 << 20))
    with ballast.open("wb") as fh:
        fh.truncate(0)
        block = b"\0" * (1 << 20)
        while free > 0:
            fh.write(block[: min(len(block), free)])
            free -= len(block)
    return ballast


def test_a_full_disk_is_reported_at_every_point_and_publish_stays_as_it_was(exports, small_disk):
    data = small_disk / "data"
    env = env_for(data, exports, SOCORG_FREE_SPACE_MARGIN_MB="0")
    first = socorg("run", "--date", FIRST_NIGHT, env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    before = published_state(data)
    run_record = data / "runs" / SECOND_NIGHT / "run.json"
    # Room for less and less: the night fails later or sooner, always saying so, never half-published.
    points = []
    for leave in (12, 3, 0.2):
        ballast = fill(small_disk, leave)
        run = socorg("run", "--date", SECOND_NIGHT, env=env)
        output = run.stdout + run.stderr
        assert_reported(run, f"socorg run {SECOND_NIGHT}: NOT ")
        assert "o space left" in output or "not enough free space" in output, output[-3000:]
        points.append(re.findall(r"(\w+): failed", output) or ["before the first task"])
        assert published_state(data) == before
        failure = data / "runs" / SECOND_NIGHT / "failure.txt"
        assert not failure.exists() or failure.read_text().strip(), "failure.txt is never left empty"
        if run_record.exists():  # the record of this run, or none: never the stale one of an earlier run
            assert json.loads(run_record.read_text())["state"] == "failed"
        ballast.unlink()
    assert len({tuple(p) for p in points}) >= 2, points  # the disk filled up at more than one point
    # The space is back: the next run publishes the night, and nothing half-written is left anywhere.
    run = socorg("run", "--date", SECOND_NIGHT, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert leftovers(data) == []
    assert json.loads(run_record.read_text())["state"] == "success"


def test_a_night_the_disk_cannot_hold_is_refused_before_landing_with_figures(exports, small_disk):
    data = small_disk / "data"
    run = socorg("run", "--date", FIRST_NIGHT, env=env_for(data, exports, SOCORG_FREE_SPACE_MARGIN_MB="1000"))
    assert_reported(run, f"land: not enough free space in {data}: ", "MiB free, the night needs about 1,0")
    assert not (data / "landing").exists() and not (data / "publish").exists()
    assert (data / "runs" / FIRST_NIGHT / "failure.txt").read_text().startswith("land: not enough free space")


@pytest.fixture
def published(first_night, tmp_path):
    """A copy of the session's published night to damage."""
    data = tmp_path / "data"
    shutil.copytree(first_night["data"], data)
    return data, {**first_night["env"], "SOCORG_DATA": str(data)}


def test_damaged_state_is_named_by_verify_and_by_the_run(published):
    data, env = published
    assert socorg("verify", "latest", env=env).returncode == 0
    latest = data / "publish" / "latest.json"
    good_latest = latest.read_bytes()
    # marts.duckdb with bytes appended: not the file the release was published with.
    marts = data / "publish" / "marts.duckdb"
    with marts.open("ab") as fh:
        fh.write(b"garbage")
    assert_reported(socorg("verify", "latest", env=env), "marts.duckdb: sha256 ", ", marts.duckdb.json says ")
    # A cut index.json: named, with what to do.
    index = data / "publish" / "releases" / FIRST_NIGHT / "index.json"
    good_index = index.read_bytes()
    index.write_bytes(good_index[:100])
    assert_reported(
        socorg("verify", FIRST_NIGHT, env=env),
        f"{index}: damaged, not valid JSON",
        f"build it again with socorg run --date {FIRST_NIGHT} --force",
    )
    index.write_bytes(good_index)
    # An invalid latest.json: verify and the night's run both name it and say how to mend it.
    latest.write_text('{"snapshot_date": ')
    assert_reported(socorg("verify", "latest", env=env), f"{latest}: damaged, not valid JSON")
    run = socorg("run", "--date", FIRST_NIGHT, env=env)
    assert_reported(
        run, f"{latest}: damaged, not valid JSON (Expecting value at line 1 column 19)", "newest whole"
    )
    # A warehouse DuckDB cannot open: verify says it is derived; the next run sets it aside and rebuilds it.
    latest.write_bytes(good_latest)
    warehouse = data / "warehouse.duckdb"
    warehouse.write_bytes(warehouse.read_bytes()[:5000])
    assert_reported(
        socorg("verify", "latest", env=env), "warehouse.duckdb: DuckDB cannot open it", "derived from raw/"
    )
    run = socorg("run", "--date", FIRST_NIGHT, "--force", env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "warehouse.duckdb could not be opened" in run.stdout and "built again from raw/" in run.stdout
    [aside] = data.glob("warehouse.duckdb.damaged-*")
    assert aside.stat().st_size == 5000
    issues = json.loads(index.with_name("issues.json").read_text())["issues"]
    assert [i["kind"] for i in issues if i["level"] == "info" and i["kind"] == "warehouse_rebuilt"] == [
        "warehouse_rebuilt"
    ]
    assert socorg("verify", "latest", env=env).returncode == 0


def test_an_unknown_header_stops_the_night_without_quoting_personal_data(first_night, tmp_path):
    """The registry's header renamed past recognition: its first rows are shown masked — no name or
    phone number reaches the CLI, failure.txt, the log or the alert — and no Data Docs link to nothing."""
    exports, data = tmp_path / "exports", tmp_path / "data"
    shutil.copytree(first_night["exports"], exports)
    [registry] = (exports / "registry" / FIRST_NIGHT).glob("registry_440300_*.csv")
    text = registry.read_text(encoding="gb18030").splitlines(keepends=True)
    header = next(k for k, line in enumerate(text) if "法定代表人" in line)
    text[header] = ",".join(f"列{k}" for k in range(text[header].count(",") + 1)) + "\n"
    registry.write_text("".join(text), encoding="gb18030")
    shown = "".join(text[: header + 4])
    personal = {v for v in first_night["truth"]["personal_values"] if v in shown}
    assert len(personal) >= 4, "the rows a message could quote hold names and phone numbers"
    with Webhook() as webhook:
        env = env_for(data, exports, AIRFLOW_CONN_SOCORG_ALERTS=webhook.url)
        run = socorg("run", "--date", FIRST_NIGHT, env=env)
    assert_reported(run, "has no recognizable header row", "found: row ")
    [post] = webhook.posts
    assert post["body"]["task"] == "parse" and post["body"]["data_docs"] is None
    assert "alert: sent to socorg_alerts (HTTP 204)" in run.stderr
    night = data / "runs" / FIRST_NIGHT
    said = {
        "cli": run.stdout + run.stderr,
        "failure.txt": (night / "failure.txt").read_text(),
        "airflow.log": (night / "airflow.log").read_text(errors="replace"),
        "alert": json.dumps(post["body"], ensure_ascii=False),
    }
    assert "has no recognizable header row" in said["failure.txt"] and "****" in said["alert"]
    for where, content in said.items():
        assert not {v for v in personal if v in content}, where


def test_no_quarantined_row_keeps_a_personal_value(first_night):
    personal = set(first_night["truth"]["personal_values"])
    files = list((first_night["data"] / "raw").glob("*/quarantine/export_date=*/*.parquet"))
    rows = duckdb.sql(
        f"select row_json, value from read_parquet({[str(f) for f in files]}, union_by_name = true) "
        "where row_json is not null"
    ).fetchall()
    assert len(rows) > 50
    cells = [json.loads(row_json) for row_json, _ in rows]
    withheld = [c["_withheld"] for c in cells if "_withheld" in c]
    assert len(withheld) > 20 and all(w for w in withheld)
    # the registry's and membership's phone columns, the standing lists' legal representatives
    assert {"phone", "legal_representative"} <= {c for w in withheld for c in w}
    values = {str(v) for c in cells for v in c.values()} | {v for _, v in rows}
    assert not values & personal
    assert not {"legal_representative", "phone", "contact_person"} & {k for c in cells for k in c}


def test_a_registry_written_line_by_line_while_the_night_starts_is_not_published_half(exports, tmp_path):
    """40 % of the file at once, then a line at a time: the night waits until it stayed unchanged (its
    deadline is long past, as in any backfill: a registry still being written is waited for anyway)."""
    data, slow = tmp_path / "data", tmp_path / "exports"
    shutil.copytree(exports, slow, ignore=shutil.ignore_patterns(SECOND_NIGHT))
    [registry] = (slow / "registry" / FIRST_NIGHT).glob("*.csv")
    content = registry.read_bytes()
    lines = content.splitlines(keepends=True)
    cut = int(len(lines) * 0.4)
    registry.write_bytes(b"".join(lines[:cut]))
    rest = lines[cut:]

    def upload():
        with registry.open("ab") as fh:
            for k in range(0, len(rest), max(1, len(rest) // 100)):
                fh.write(b"".join(rest[k : k + max(1, len(rest) // 100)]))
                fh.flush()
                time.sleep(0.15)

    uploader = threading.Thread(target=upload)
    uploader.start()
    env = env_for(data, slow, SOCORG_SETTLE_SECONDS="2", SOCORG_POKE_SECONDS="1")
    run = socorg("run", "--date", FIRST_NIGHT, env=env)
    uploader.join()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "waiting for the exports to be whole: registry/" in run.stdout
    log = (data / "runs" / FIRST_NIGHT / "airflow.log").read_text(errors="replace")
    assert "not landed yet" not in log, "the sensor waited: the land step found the file whole at once"
    assert registry.read_bytes() == content
    truth = json.loads((exports / "_truth" / f"{FIRST_NIGHT}.json").read_text(encoding="utf-8"))
    summary = data / "publish" / "city_summary" / f"snapshot_date={FIRST_NIGHT}" / "city_summary.parquet"
    [(active,)] = duckdb.sql(f"select active_org_count from read_parquet('{summary}')").fetchall()
    assert active == truth["cities"]["440300"]["city_summary"]["active_org_count"]
