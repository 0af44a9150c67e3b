"""`socorg run`: nights through the Airflow DAG in-process, one at a time per data folder, in date order."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time
from pathlib import Path

from ingest.cli import exit_codes
from ingest.cli.report import print_headlines
from ingest.common import paths
from ingest.common.dates import FIRST_EXPORT_DATE, run_time_for
from ingest.common.errors import LockHeldError, SocorgError


def export_date_arg(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from None
    if day < FIRST_EXPORT_DATE:
        raise argparse.ArgumentTypeError(
            f"{day} is before {FIRST_EXPORT_DATE}, the first export date the nightly DAG runs"
        )
    return day


def export_dates_arg(value: str) -> list[dt.date]:
    """`--dates 2019-12-31,2020-12-31`: export dates, separated by commas."""
    return [export_date_arg(part.strip()) for part in value.split(",") if part.strip()]


class NothingToRun(SocorgError):
    """The dates asked for hold no registry export: no night can run."""


def nights_asked(args, exports: str) -> list[dt.date]:
    """The export dates to run, oldest first: `--date` (with `--nights`, consecutive days), `--dates`,
    `--from`/`--to` (the dates the exports root holds in that range) or `--all` (every date it holds)."""
    if args.date:
        return [args.date + dt.timedelta(days=k) for k in range(args.nights)]
    from ingest.land.landing import export_dates, list_exports, source_folder
    from ingest.land.storage import open_root

    fs, root = open_root(exports)
    if args.dates:
        missing = [d for d in sorted(set(args.dates)) if not list_exports(fs, root, "registry", d)]
        if missing:
            raise NothingToRun(
                "no registry export for "
                + ", ".join(f"{d} (in {source_folder(exports, 'registry', d)})" for d in missing)
                + ": nothing was run"
            )
        return sorted(set(args.dates))
    held = export_dates(fs, root)
    low, high = getattr(args, "from") or dt.date.min, args.to or dt.date.max
    chosen = [d for d in held if low <= d <= high]
    if not chosen:
        span = "" if args.all else f" from {getattr(args, 'from') or 'the first'} to {args.to or 'the last'}"
        raise NothingToRun(
            f"{exports} holds no registry export{span} (registry/YYYY-MM-DD/…): nothing was run"
        )
    return chosen


def run_command(args) -> int:
    """Run the nights in date order, each holding the data folder's lock; stop at the first that does
    not publish.

    A night whose exports are those its current release was built from is not run again (nothing to
    do: an archive load stopped half-way goes on where it stopped). An earlier night waiting for the
    data folder goes first. A night published before an earlier one (two runs raced, a backfill, an
    archive older than the releases) was built on the wrong history: once the earlier night is in, each
    later release that no longer fits is built again.
    """
    from ingest.orchestration.lock import data_folder_lock
    from ingest.rules.site import SiteError, check_site

    try:
        check_site()
    except SiteError as exc:
        print(f"socorg run: NOT run: the site folder is broken.\n  {exc}", file=sys.stderr)
        return exit_codes.STOPPED
    data = paths.data_dir(args.data)
    exports = paths.exports_root(args.exports, data)
    try:
        nights = nights_asked(args, exports)
    except (NothingToRun, OSError) as exc:
        print(f"socorg run: NOT run: {exc}", file=sys.stderr)
        return exit_codes.NOTHING_RAN
    progress = Progress(nights)
    _say_plan(data, exports, nights, args.force)
    command = _command_line(args, nights)
    while nights:
        export_date = nights[0]
        try:
            with data_folder_lock(data, export_date.isoformat(), command, args.wait, say):
                progress.starting(export_date)
                code = _run_or_skip(args, data, exports, export_date)
            if code is YIELDED:
                continue
            progress.done(export_date)
            if code:
                return code
            nights.pop(0)
            for later in _outdated_later_releases(args, export_date, nights):
                print(
                    f"\nsocorg run: the release of {later} was built before {export_date} was; "
                    f"building {later} again on top of it",
                    flush=True,
                )
                nights = sorted([*nights, later])
                progress.add(later)
        except LockHeldError as exc:
            print(f"socorg run {export_date}: NOT run.\n{exc}", file=sys.stderr)
            return exit_codes.LOCKED
        except Exception as exc:  # the lock, Airflow's metadata DB, a full disk: said, not a traceback
            from ingest.orchestration.stages import describe_failure

            print(f"socorg run {export_date}: NOT run.\n{describe_failure(exc)}", file=sys.stderr)
            return exit_codes.STOPPED
    progress.finished()
    return exit_codes.OK


def _command_line(args, nights: list[dt.date]) -> str:
    """How the lock names this run to another that waits for it."""
    if args.date:
        return f"socorg run --date {args.date}" + (f" --nights {args.nights}" if args.nights > 1 else "")
    return f"socorg run ({len(nights)} nights, {nights[0]} … {nights[-1]})"


YIELDED = -1  # the night let an earlier one waiting for the data folder go first


def _run_or_skip(args, data: Path, exports: str, export_date: dt.date) -> int:
    """The night, unless its release is current and its exports are those it was built from (then
    said, and nothing started); a past night without a registry export is not run either; YIELDED
    when an earlier night waits for the data folder (it goes first)."""
    from ingest.orchestration.lock import waiting_nights
    from ingest.publish.fingerprint import current_release

    unchanged = None if args.force else current_release(data, exports, export_date)
    if unchanged:
        print(f"socorg run {export_date}: {export_date} is published and its exports are unchanged since "
              "its release; nothing rebuilt (--force rebuilds)", flush=True)  # fmt: skip
        _load_postgres_if_latest(data, exports, export_date)
        return exit_codes.OK
    missing = _registry_missing_after_deadline(data, exports, export_date)
    if missing:
        print(f"\nsocorg run {export_date}: NOT published (nothing ran).\n{missing}", file=sys.stderr)
        return exit_codes.NOTHING_RAN
    _prepare_airflow(data, export_date)
    earlier = waiting_nights(data, before=export_date.isoformat())
    if earlier:
        print(f"  night {earlier[0]} waits for this data folder too: it goes first", flush=True)
        return YIELDED
    return _run_night(args, export_date)


def _registry_missing_after_deadline(data: Path, exports: str, export_date: dt.date) -> str | None:
    """Why a night cannot run at all: its registry export is not there and its deadline has passed
    (the DAG's sensor would fail at once); None when it may still come or is there."""
    from ingest.land.landing import list_exports, source_folder
    from ingest.land.storage import open_root
    from ingest.orchestration.stages import SCHEDULE_TZ, night_from_context

    params = {"exports": exports, "data": str(data)}
    night = night_from_context({"logical_date": run_time_for(export_date), "params": params})
    if dt.datetime.now(SCHEDULE_TZ) < night.deadline:
        return None
    try:
        fs, root = open_root(exports, night.conn_id)
        if list_exports(fs, root, "registry", export_date):
            return None
    except Exception:  # noqa: BLE001 (the DAG's sensor says what is wrong with the exports root)
        return None
    return (
        f"export missing: no registry export for {export_date} in "
        f"{source_folder(exports, 'registry', export_date)} (its deadline, "
        f"{night.deadline.isoformat(timespec='minutes')}, has passed)"
    )


def _load_postgres_if_latest(data: Path, exports: str, export_date: dt.date) -> None:
    """An unchanged latest night still loads PostgreSQL when a connection is new since its release (as
    the DAG's publish_postgres does after a skipped publish)."""
    from ingest.common.errors import StageSkipped
    from ingest.orchestration import stages
    from ingest.orchestration.airflow_home import configure, output_to
    from ingest.publish.release import latest_snapshot

    if latest_snapshot(data / "publish") != export_date.isoformat():
        return
    night = stages.Night(export_date, exports, data)
    configure()  # the connection may be in the local Airflow's metadata DB
    try:
        with output_to(data / "runs" / export_date.isoformat() / "airflow.log"):
            result = stages.publish_postgres(night)
    except StageSkipped:
        return
    print(f"  publish_postgres: loaded {result['rows']:,} rows into schema {result['schema']}")


def _say_plan(data: Path, exports: str, nights: list[dt.date], force: bool = False) -> None:
    """Before the nights run: how many (an archive), and which releases published after the first of
    them will be built again once it is in (their history compares with the nights loaded now)."""
    from ingest.publish.fingerprint import current_release
    from ingest.publish.release import releases

    first, last = nights[0], nights[-1]
    if len(nights) > 1:
        print(
            f"socorg run: {len(nights)} nights from {first} to {last}, in date order, on {exports}",
            flush=True,
        )
    building = next((n for n in nights if force or not current_release(data, exports, n)), None)
    if building is None:
        return
    later = [d for d in releases(data / "publish") if d > building.isoformat()]
    if later:
        shown = ", ".join(later[:5]) + (f" and {len(later) - 5} more" if len(later) > 5 else "")
        print(
            f"socorg run: {len(later)} release(s) published before were built after {building}: {shown}; "
            "each is built again once, in date order, after the nights before it (its history and figures "
            "by year compare with them)",
            flush=True,
        )


class Progress:
    """Night k of n on stderr, with the time taken and an estimate of the time left."""

    def __init__(self, nights: list[dt.date]) -> None:
        self.total, self.finished_nights, self.started = len(nights), 0, time.monotonic()

    def add(self, _night: dt.date) -> None:
        self.total += 1

    def starting(self, night: dt.date) -> None:
        if self.total < 2:
            return
        elapsed = time.monotonic() - self.started
        left, done = "", self.finished_nights
        if done:
            left = f", about {_clock(elapsed / done * (self.total - done))} left"
        print(
            f"[night {self.finished_nights + 1} of {self.total}] {night} · {_clock(elapsed)} elapsed{left}",
            file=sys.stderr,
            flush=True,
        )

    def done(self, _night: dt.date) -> None:
        self.finished_nights += 1

    def finished(self) -> None:
        if self.total > 1:
            print(
                f"[{self.total} nights done in {_clock(time.monotonic() - self.started)}]",
                file=sys.stderr,
                flush=True,
            )


def _clock(seconds: float) -> str:
    """`1:05:09` or `4:07`.

    >>> _clock(3909), _clock(247)
    ('1:05:09', '4:07')
    """
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _prepare_airflow(data: Path, export_date: dt.date) -> None:
    """Airflow made ready (metadata DB, DAG) before the night's run, its output in the night's log: a
    few seconds in which a run of an earlier night started at the same time asks for the lock too."""
    from ingest.orchestration.airflow_home import output_to, prepare

    with output_to(data / "runs" / export_date.isoformat() / "airflow.log"):
        prepare()


def say(message: str) -> None:
    print(message, flush=True)


def _outdated_later_releases(args, export_date: dt.date, queued: list[dt.date]) -> list[dt.date]:
    """The first release after this night that was built before it (none queued), if its exports are
    still there to build it again; else say that it stays as it is."""
    from ingest.land.landing import list_exports
    from ingest.land.storage import open_root
    from ingest.publish.fingerprint import previous_changed
    from ingest.publish.release import releases

    data = paths.data_dir(args.data)
    for later in releases(data / "publish"):
        day = dt.date.fromisoformat(later)
        if day <= export_date or day in queued:
            continue
        if not previous_changed(data, day):
            return []
        exports = paths.exports_root(args.exports, data)
        fs, root = open_root(exports)
        if list_exports(fs, root, "registry", day):
            return [day]
        print(
            f"\n  warning: the release of {later} was built before {export_date} was, but its exports are no "
            f"longer in {exports}: it stays as it is (its changes do not include {export_date})"
        )
        return []
    return []


def _run_night(args, export_date: dt.date) -> int:
    from ingest.orchestration.airflow_home import test_run
    from ingest.orchestration.stages import (
        Night,
        describe_failure,
        failure_file,
        record_failure,
        run_record,
        run_time_for,
    )

    data = paths.data_dir(args.data)
    night = Night(export_date, paths.exports_root(args.exports, data), data)
    conf = {
        "exports": night.exports,
        "data": str(night.data),
        "keep_releases": args.keep_releases,
        "keep_year_ends": args.keep_year_ends,
        "force": args.force,
    }
    log = None if args.verbose else night.data / "runs" / export_date.isoformat() / "airflow.log"
    print(f"socorg run {export_date}: running the socorg_nightly DAG on {night.exports}", flush=True)
    if log:
        print(f"  log: {log}", flush=True)
    _say_if_not_whole(night)
    started = time.perf_counter()
    failure = failure_file(night)
    failure.unlink(missing_ok=True)
    try:
        state, tasks = test_run(run_time_for(export_date), conf, log)
    except Exception as exc:  # Airflow itself failed (its metadata DB on a full disk, …): say why
        state, tasks = "failed", {}
        record_failure(night, f"the run could not go on: {describe_failure(exc)}")
        if not failure.exists():
            print(f"  the run could not go on: {describe_failure(exc)}", file=sys.stderr)
    seconds = round(time.perf_counter() - started, 2)
    outcome = night_outcome(state, tasks)
    record = {"state": state if outcome != "nothing_ran" else outcome, "outcome": outcome}
    _write_run_record(run_record(night), {**record, "seconds": seconds, "tasks": tasks})
    if tasks:
        print("  " + "  ".join(f"{task}: {t['state']} ({t['seconds']:.1f} s)" for task, t in tasks.items()))
    if outcome == "nothing_ran":
        print(
            f"\nsocorg run {export_date}: NOT published (nothing ran).\nAirflow ran no task of the "
            f"socorg_nightly DAG for {export_date} (run state {state}); nothing was landed or published.",
            file=sys.stderr,
        )
        return exit_codes.NOTHING_RAN
    if outcome == "failed":
        reason = _failure_reason(failure, log, export_date)
        print(
            f"\nsocorg run {export_date}: NOT published (run state {state}).\n{reason}",
            file=sys.stderr,
        )
        _say_alert(night)
        return exit_codes.STOPPED
    from ingest.land.landing import missing_sources

    if outcome == "unchanged":
        print(f"  {export_date}: exports unchanged since its release; nothing rebuilt (--force rebuilds)")
    try:
        for source in missing_sources(night.data, export_date):
            print(f"  note: no {source} exports for {export_date}; the night was published without them")
        print_headlines(night.data, export_date)
    except Exception as exc:  # the night is published; only its summary cannot be shown
        from ingest.orchestration.stages import describe_failure

        print(f"  {export_date} was published, but its figures cannot be shown: {describe_failure(exc)}")
    return exit_codes.OK


RAN = {"success", "failed", "upstream_failed", "up_for_retry", "skipped"}  # states of a task that ran


def night_outcome(state: str, tasks: dict[str, dict]) -> str:
    """What a DAG run of one night came to: `published` (its publish task succeeded), `unchanged`
    (it pulled the exports and found its release current), `nothing_ran` (Airflow ran no task: never
    "published"), or `failed`.

    >>> night_outcome("success", {})
    'nothing_ran'
    >>> night_outcome("success", {"land": {"state": "success"}, "parse": {"state": "skipped"}})
    'unchanged'
    """
    states = {task: str(t.get("state")) for task, t in tasks.items()}
    if not RAN.intersection(states.values()):
        return "nothing_ran"
    if state != "success":
        return "failed"
    if states.get("publish") == "success":
        return "published"
    if states.get("land") == "success" and states.get("parse") == "skipped":
        return "unchanged"
    return "nothing_ran"


def _say_if_not_whole(night) -> None:
    """Tell the person at the terminal why the run may sit still for a while: exports still settling."""
    from ingest.land.landing import not_ready
    from ingest.land.storage import open_root

    try:
        fs, root = open_root(night.exports, night.conn_id)
        waiting = not_ready(fs, root, night.export_date)
    except Exception:  # noqa: BLE001 (only a hint: the sensor itself reports what is wrong)
        return
    reasons = [reason for source_reasons in waiting.values() for reason in source_reasons]
    if reasons:
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        print(f"  waiting for the exports to be whole: {reasons[0]}{more}", flush=True)


def _say_alert(night) -> None:
    """Whether the failure alert reached its webhook: a person at the terminal should know if not."""
    from ingest.common.files import read_json
    from ingest.orchestration.alerts import alert_record

    try:
        outcome = read_json(alert_record(night.data, night.export_date.isoformat()), default=None)
    except SocorgError:
        outcome = None
    if isinstance(outcome, dict) and outcome.get("delivered"):
        print(f"  alert: sent to {outcome.get('to')} ({outcome.get('detail')})", file=sys.stderr)
    elif isinstance(outcome, dict) and outcome.get("configured"):
        print(f"  alert: NOT delivered to {outcome.get('to')}: {outcome.get('detail')}", file=sys.stderr)
    elif isinstance(outcome, dict):
        print(f"  alert: none sent (no Airflow connection {outcome.get('to')})", file=sys.stderr)


def _failure_reason(failure: Path, log: Path | None, export_date: dt.date) -> str:
    """The failed stage's reason: from failure.txt, else as this process saw it (a full disk keeps the
    file from being written), else where to look."""
    import shutil

    from ingest.orchestration.stages import LAST_FAILURES

    try:
        reason = failure.read_text(encoding="utf-8").strip()
    except OSError:
        reason = ""
    reason = reason or LAST_FAILURES.get(export_date, "")
    free = shutil.disk_usage(failure.parents[2]).free if failure.parents[2].exists() else None
    if free is not None and free < LOW_SPACE:
        reason += (
            f"\nthe data folder's disk has {free >> 10:,} KiB free: free some space and run the night again"
        )
    return reason.strip() or f"no reason was recorded; see {log or 'the task logs'}"


LOW_SPACE = 1 << 20  # below this much free space, a failed night's message says the disk is full


def _write_run_record(path: Path, record: dict) -> None:
    """`runs/<date>/run.json`; when it cannot be written, say so and remove a stale one."""
    from ingest.common.files import write_json_atomically

    try:
        write_json_atomically(path, record)
    except OSError as exc:
        print(f"  could not write the run record {path}: {exc.strerror or exc}", file=sys.stderr)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
