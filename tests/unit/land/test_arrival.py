"""Arrival: waiting for the registry until a deadline, files landed once, re-deliveries versioned."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.common.errors import DiskFullError, ExportIncompleteError, ExportMissingError
from ingest.land.landing import land_night, missing_sources, not_ready
from ingest.land.storage import open_root
from ingest.orchestration.stages import SCHEDULE_TZ, Night, wait_for_registry
from ingest.parse.night import parse_night, partition

DATE = dt.date(2023, 10, 31)
HEADER = "统一社会信用代码,社会组织名称,社会组织类型,登记状态\n"
ROWS = [
    "51100000500002862F,中国自动化学会,社会团体,正常\n",
    "53100000500019795A,中国社会福利基金会,基金会,正常\n",
]


def deliver(exports: Path, rows: list[str]) -> Path:
    folder = exports / "registry" / DATE.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "registry_110000_20231031.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def night(exports: Path, data: Path, deadline: dt.datetime) -> Night:
    local = deadline.astimezone(SCHEDULE_TZ)
    assert local.date() == DATE + dt.timedelta(days=1), "tests put the deadline on D+1"
    return Night(DATE, str(exports), data, registry_deadline=local.time())


def test_waits_before_the_deadline_and_fails_after_it(tmp_path):
    waiting = night(tmp_path / "exports", tmp_path / "data", dt.datetime(2023, 11, 1, 8, tzinfo=SCHEDULE_TZ))
    assert wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 3, tzinfo=SCHEDULE_TZ)) is False
    with pytest.raises(ExportMissingError) as err:
        wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 8, 1, tzinfo=SCHEDULE_TZ))
    assert "export missing: no registry export for 2023-10-31 in" in str(err.value)
    assert "registry/2023-10-31/ by the deadline 2023-11-01T08:00+08:00" in str(err.value)
    deliver(tmp_path / "exports", ROWS)
    assert wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 9, tzinfo=SCHEDULE_TZ)) is True


def test_same_file_twice_is_landed_once_and_new_content_becomes_a_version(tmp_path):
    exports, data = tmp_path / "exports", tmp_path / "data"
    deliver(exports, ROWS)
    first = land_night(str(exports), DATE, data)
    again = land_night(str(exports), DATE, data)
    assert [f.already_landed for f in first] == [False] and [f.already_landed for f in again] == [True]
    assert len(list((data / "landing" / "registry" / DATE.isoformat()).iterdir())) == 1

    deliver(exports, ROWS[:1])
    landed = land_night(str(exports), DATE, data)
    assert [(f.version, f.superseded) for f in landed] == [(2, False), (1, True)]
    assert (data / "landing/registry/2023-10-31/registry_110000_20231031.v2.csv").exists()
    parse_night(data, DATE)
    log = pq.read_table(partition(data, "load_log", DATE)).to_pylist()
    assert [(r["version"], r["status"], r["rows_read"]) for r in log] == [
        (2, "loaded", 1),
        (1, "superseded", 0),
    ]
    assert log[0]["sha256"] != log[1]["sha256"]
    raw = pq.read_table(partition(data, "registry", DATE)).to_pylist()
    assert [r["org_name"] for r in raw] == ["中国自动化学会"]


def test_a_file_is_whole_once_unchanged_for_the_settle_time(tmp_path, monkeypatch):
    exports = tmp_path / "exports"
    monkeypatch.setenv("SOCORG_SETTLE_SECONDS", "60")
    path = deliver(exports, ROWS)
    fs, root = open_root(str(exports))
    [reason] = not_ready(fs, root, DATE)["registry"]
    assert reason.startswith(
        "registry/registry_110000_20231031.csv: last changed 0 s ago; an export counts as"
    )
    assert reason.endswith("whole once unchanged for 60 s (SOCORG_SETTLE_SECONDS)")
    with pytest.raises(ExportIncompleteError, match="not landed yet, still being written"):
        land_night(str(exports), DATE, tmp_path / "data")
    old = time.time() - 61
    os.utime(path, (old, old))
    assert not_ready(fs, root, DATE) == {}
    # Watched unchanged for the settle time counts too (the storage's clock may be an hour ahead):
    # the sensor watches it settle, and the land step lands what the sensor saw settle.
    monkeypatch.setenv("SOCORG_SETTLE_SECONDS", "1.5")
    future = time.time() + 3600
    os.utime(path, (future, future))
    data = tmp_path / "data"
    assert list(not_ready(fs, root, DATE)) == ["registry"]
    waiting = night(exports, data, dt.datetime(2023, 11, 1, 8, tzinfo=SCHEDULE_TZ))
    assert wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 3, tzinfo=SCHEDULE_TZ)) is True
    assert [f.name for f in land_night(str(exports), DATE, data)] == ["registry_110000_20231031.csv"]


def test_a_file_still_being_written_is_waited_for(tmp_path, monkeypatch):
    exports = tmp_path / "exports"
    monkeypatch.setenv("SOCORG_SETTLE_SECONDS", "1")
    path = deliver(exports, ROWS[:1])
    done = threading.Event()

    def write_slowly():
        with path.open("a", encoding="utf-8") as fh:
            for k in range(8):
                time.sleep(0.4)
                fh.write(f"5110000050000{k:04d}X,学会{k},社会团体,正常\n")
                fh.flush()
        done.set()

    writer = threading.Thread(target=write_slowly)
    writer.start()
    waiting = night(exports, tmp_path / "data", dt.datetime(2023, 11, 1, 8, tzinfo=SCHEDULE_TZ))
    # Each poke watches for a settle time: while lines keep coming, the sensor says "not yet".
    assert wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 3, tzinfo=SCHEDULE_TZ)) is False
    assert not done.is_set()
    writer.join()
    assert wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 3, tzinfo=SCHEDULE_TZ)) is True
    assert path.read_text(encoding="utf-8").count("\n") == 10


@pytest.mark.parametrize(
    ("marker", "marker_file", "reason"),
    [
        (
            "registry=.done",
            "registry_110000_20231031.csv.done",
            "registry_110000_20231031.csv.done marker yet",
        ),
        ("registry=_SUCCESS", "_SUCCESS", "registry: no _SUCCESS marker in"),
    ],
)
def test_a_completion_marker_when_configured_is_waited_for(
    tmp_path, monkeypatch, marker, marker_file, reason
):
    exports = tmp_path / "exports"
    monkeypatch.setenv("SOCORG_COMPLETION_MARKERS", marker)
    path = deliver(exports, ROWS)
    waiting = night(exports, tmp_path / "data", dt.datetime(2023, 11, 1, 8, tzinfo=SCHEDULE_TZ))
    fs, root = open_root(str(exports))
    [why] = not_ready(fs, root, DATE)["registry"]
    assert reason in why
    assert wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 3, tzinfo=SCHEDULE_TZ)) is False
    # A marker that has not come by the deadline fails the night, naming it.
    with pytest.raises(ExportIncompleteError, match="still not whole at the deadline 2023-11-01T08:00"):
        wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 8, 1, tzinfo=SCHEDULE_TZ))
    (path.parent / marker_file).write_text("")
    assert wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 3, tzinfo=SCHEDULE_TZ)) is True
    # The marker is no export: it is neither landed nor refused for its name.
    landed = land_night(str(exports), DATE, tmp_path / "data")
    assert [f.name for f in landed] == ["registry_110000_20231031.csv"]


def test_a_night_the_disk_has_no_room_for_is_refused_with_figures(tmp_path, monkeypatch):
    exports = tmp_path / "exports"
    deliver(exports, ROWS)
    monkeypatch.setenv("SOCORG_FREE_SPACE_MARGIN_MB", str(10**9))
    with pytest.raises(DiskFullError) as err:
        land_night(str(exports), DATE, tmp_path / "data")
    assert f"not enough free space in {tmp_path / 'data'}: " in str(err.value)
    assert re.search(
        r"[\d,.]+ MiB free, the night needs about 1,000,000,000.0 MiB \(2 × its 0.0 MiB of exports "
        r"\+ a margin of 1,000,000,000 MiB, SOCORG_FREE_SPACE_MARGIN_MB\); free some space",
        str(err.value),
    )
    assert not (tmp_path / "data" / "landing").exists()


def test_an_optional_source_not_whole_at_the_deadline_is_left_out(tmp_path, monkeypatch):
    exports, data = tmp_path / "exports", tmp_path / "data"
    deliver(exports, ROWS)
    members = exports / "membership" / DATE.isoformat() / "membership_51100000500002862F_20231031.csv"
    members.parent.mkdir(parents=True)
    members.write_text("会员名称,统一社会信用代码\n甲公司,91320583930364265H\n", encoding="utf-8")
    monkeypatch.setenv("SOCORG_COMPLETION_MARKERS", "membership=_SUCCESS")
    waiting = night(exports, data, dt.datetime(2023, 11, 1, 8, tzinfo=SCHEDULE_TZ))
    assert wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 3, tzinfo=SCHEDULE_TZ)) is False
    assert wait_for_registry(waiting, now=dt.datetime(2023, 11, 1, 8, 1, tzinfo=SCHEDULE_TZ)) is True
    landed = land_night(str(exports), DATE, data)
    assert [f.source for f in landed] == ["registry"]
    assert missing_sources(data, DATE) == ["membership", "qualifications", "funding"]


def test_a_backfill_skips_a_date_without_registry_only_past_its_deadline(tmp_path):
    from dataclasses import replace

    from ingest.common.errors import StageSkipped

    backfill = replace(
        night(tmp_path / "exports", tmp_path / "data", dt.datetime(2023, 11, 1, 8, tzinfo=SCHEDULE_TZ)),
        backfill=True,
    )
    # Before the deadline the export may still come: the backfill's night waits like any night.
    assert wait_for_registry(backfill, now=dt.datetime(2023, 11, 1, 3, tzinfo=SCHEDULE_TZ)) is False
    with pytest.raises(StageSkipped) as skipped:
        wait_for_registry(backfill, now=dt.datetime(2023, 11, 1, 9, tzinfo=SCHEDULE_TZ))
    assert "no registry export for 2023-10-31" in str(skipped.value)
    assert "a backfill runs only the dates the exports root holds" in str(skipped.value)
    deliver(tmp_path / "exports", ROWS)
    assert wait_for_registry(backfill, now=dt.datetime(2023, 11, 1, 9, tzinfo=SCHEDULE_TZ)) is True
