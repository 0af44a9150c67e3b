"""Arrival: waiting for the registry until a deadline, files landed once, re-deliveries versioned."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.errors import ExportMissingError
from ingest.land import land_night
from ingest.pipeline import SCHEDULE_TZ, Night, wait_for_registry
from ingest.raw import parse_night, partition

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
