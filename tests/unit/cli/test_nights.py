"""Which nights `socorg run` runs: --dates, --from/--to and --all read the exports root; progress."""

from __future__ import annotations

import argparse
import datetime as dt
import re

import pytest

from ingest.cli.nights import NothingToRun, Progress, export_date_arg, export_dates_arg, nights_asked

HELD = ["1949-12-31", "2014-12-31", "2016-12-31", "2020-12-31", "2023-10-31"]


@pytest.fixture
def exports(tmp_path):
    for day in HELD:
        folder = tmp_path / "registry" / day
        folder.mkdir(parents=True)
        (folder / f"registry_320500_{day.replace('-', '')}.csv").write_text("统一社会信用代码\n", "utf-8")
    (tmp_path / "registry" / "2018-12-31").mkdir()  # a folder with nothing in it is no night
    (tmp_path / "registry" / "old").mkdir()  # nor is a folder whose name is no date
    return str(tmp_path)


def asked(**given) -> argparse.Namespace:
    args = {"date": None, "nights": 1, "dates": None, "from": None, "to": None, "all": False}
    return argparse.Namespace(**{**args, **given})


def test_all_runs_every_date_held_from_1950_and_says_what_it_left_out(exports, capsys):
    nights = nights_asked(asked(all=True), exports)
    assert [d.isoformat() for d in nights] == HELD[1:]
    assert "1 folder(s) dated before 1950-01-01 (1949-12-31 …) are not nights" in capsys.readouterr().err


def test_from_and_to_choose_the_held_dates_in_their_range(exports):
    between = nights_asked(asked(**{"from": dt.date(2015, 1, 1), "to": dt.date(2021, 1, 1)}), exports)
    assert between == [dt.date(2016, 12, 31), dt.date(2020, 12, 31)]
    assert nights_asked(asked(**{"from": dt.date(2020, 12, 31)}), exports)[-1] == dt.date(2023, 10, 31)
    with pytest.raises(NothingToRun, match=r"holds no registry export from 2024-01-01 to the last"):
        nights_asked(asked(**{"from": dt.date(2024, 1, 1)}), exports)


def test_dates_are_run_once_in_order_and_a_date_not_held_stops_before_any_night(exports):
    twice = [dt.date(2020, 12, 31), dt.date(2014, 12, 31), dt.date(2020, 12, 31)]
    assert nights_asked(asked(dates=twice), exports) == [dt.date(2014, 12, 31), dt.date(2020, 12, 31)]
    with pytest.raises(NothingToRun) as err:
        nights_asked(asked(dates=[dt.date(2014, 12, 31), dt.date(2018, 12, 31)]), exports)
    assert "no registry export for 2018-12-31 (in " in str(err.value)
    assert "registry/2018-12-31" in str(err.value) and "nothing was run" in str(err.value)


def test_date_and_nights_are_consecutive_days_without_reading_the_root(tmp_path):
    nights = nights_asked(asked(date=dt.date(2023, 12, 30), nights=3), str(tmp_path / "absent"))
    assert nights == [dt.date(2023, 12, 30), dt.date(2023, 12, 31), dt.date(2024, 1, 1)]


@pytest.mark.parametrize(
    "value, message",
    [
        ("2023-13-01", "expected a date as YYYY-MM-DD, got '2023-13-01'"),
        ("1949-12-31", "1949-12-31 is before 1950-01-01, the first export date the nightly DAG runs"),
    ],
)
def test_a_date_that_cannot_be_a_night_is_refused_by_name(value, message):
    with pytest.raises(argparse.ArgumentTypeError) as err:
        export_date_arg(value)
    assert str(err.value) == message


def test_dates_are_split_on_commas_and_none_at_all_is_refused():
    assert export_dates_arg("2014-12-31, 2016-12-31,") == [dt.date(2014, 12, 31), dt.date(2016, 12, 31)]
    with pytest.raises(argparse.ArgumentTypeError, match="expected dates as YYYY-MM-DD"):
        export_dates_arg(" , ")


def test_progress_estimates_the_time_left_from_the_nights_built(monkeypatch, capsys):
    clock = iter([0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 11.0, 11.0, 11.0, 31.0, 31.0])
    monkeypatch.setattr("ingest.cli.nights.time.monotonic", lambda: next(clock))
    nights = [dt.date(2020, 12, 31), dt.date(2021, 12, 31), dt.date(2022, 12, 31), dt.date(2023, 10, 31)]
    progress = Progress(nights, unchanged=1)  # started at 0
    progress.starting(nights[0])  # 0
    progress.done(nights[0], built=True)  # built in 10 s
    progress.starting(nights[1])  # 10: one built at 10 s a night, two left to build (one is unchanged)
    progress.done(nights[1], built=False)  # the unchanged one, skipped in 1 s
    progress.starting(nights[2])  # 11: two left to build, still 10 s a night
    progress.done(nights[2], built=True)  # built in 20 s
    progress.finished()  # 31
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "[night 1 of 4] 2020-12-31 · 0:00 elapsed"
    assert lines[1] == "[night 2 of 4] 2021-12-31 · 0:10 elapsed, about 0:20 left"
    assert lines[2] == "[night 3 of 4] 2022-12-31 · 0:11 elapsed, about 0:20 left"
    assert re.fullmatch(r"\[4 nights done in 0:31\]", lines[3])
