"""`socorg run`: nights through the Airflow DAG in-process, one at a time per data folder, in date order."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from pathlib import Path

from ingest.cli import exit_codes
from ingest.cli.nights import NothingToRun, Plan, Progress, nights_asked
from ingest.cli.report import print_headlines
from ingest.common import paths
from ingest.common.errors import EXPORT_MISSING, LockHeldError, SocorgError


def run_command(args) -> int:
    """`socorg run`; with `--json`, each night's outcome as a JSON line on stdout, the rest on stderr."""
    if not args.json:
        return _run_nights(args, lambda *_: None)
    from ingest.cli.outcome import emit, night_document

    out, data = sys.stdout, paths.data_dir(args.data)
    with contextlib.redirect_stdout(sys.stderr):
        return _run_nights(args, lambda *night: emit(out, night_document(data, *night)))


def _run_nights(args, said) -> int:
    """Run the nights in date order, each holding the data folder's lock; stop at the first that does
    not publish.

    A night whose exports are those its current release was built from is not run again (nothing to
    do: an archive load stopped half-way goes on where it stopped). An earlier night waiting for the
    data folder goes first. A night published before an earlier one (two runs raced, a backfill, an
    archive older than the releases) was built on the wrong history: once the earlier night is in, each
    later release that no longer fits is built again.
    """
    from ingest.orchestration.lock import data_folder_lock
    from ingest.orchestration.stages import describe_failure
    from ingest.rules.site import SiteError, check_site

    try:
        check_site()
    except SiteError as exc:
        print(f"socorg run: NOT run: the site folder is broken.\n  {exc}", file=sys.stderr)
        said(None, exit_codes.STOPPED, f"the site folder is broken: {exc}")
        return exit_codes.STOPPED
    data = paths.data_dir(args.data)
    exports = paths.exports_root(args.exports, data)
    from ingest.orchestration.airflow_home import RENDERING

    # Read when the DAG is parsed: dbt as one task, unless asked to draw a task per model; an upload
    # that fails is not retried here (the person at the terminal runs the night again to finish it).
    os.environ[RENDERING] = "models" if args.model_tasks else "one"
    os.environ["SOCORG_REMOTE_RETRIES"] = "0"
    try:
        nights = nights_asked(args, exports)
        plan = Plan(data, exports, nights, args.force)
        plan.say(nights)
    except NothingToRun as exc:
        print(f"socorg run: NOT run: {exc}", file=sys.stderr)
        said(None, exit_codes.NOTHING_RAN, str(exc))
        return exit_codes.NOTHING_RAN
    except Exception as exc:  # an exports root that cannot be read, a damaged release: said, no traceback
        print(f"socorg run: NOT run.\n{describe_failure(exc)}", file=sys.stderr)
        said(None, exit_codes.STOPPED, describe_failure(exc))
        return exit_codes.STOPPED
    progress = Progress(nights, plan.unchanged_at_start)
    command = _command_line(args, nights)
    while nights:
        export_date = nights[0]
        try:
            with data_folder_lock(data, export_date.isoformat(), command, args.wait, say):
                progress.starting(export_date)
                code, built = _run_or_skip(args, data, exports, export_date, plan)
            if code is YIELDED:
                continue
            said(export_date, code, "", built or code != exit_codes.OK)
            progress.done(export_date, built)
            plan.built_any = plan.built_any or built
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
            said(export_date, exit_codes.LOCKED, str(exc))
            return exit_codes.LOCKED
        except Exception as exc:  # the lock, Airflow's metadata DB, a full disk: said, not a traceback
            print(f"socorg run {export_date}: NOT run.\n{describe_failure(exc)}", file=sys.stderr)
            said(export_date, exit_codes.STOPPED, describe_failure(exc))
            return exit_codes.STOPPED
    progress.finished()
    return exit_codes.OK


def _command_line(args, nights: list[dt.date]) -> str:
    """How the lock names this run to another that waits for it."""
    if args.date:
        return f"socorg run --date {args.date}" + (f" --nights {args.nights}" if args.nights > 1 else "")
    return f"socorg run ({len(nights)} nights, {nights[0]} … {nights[-1]})"


YIELDED = -1  # the night let an earlier one waiting for the data folder go first


def _run_or_skip(args, data: Path, exports: str, export_date: dt.date, plan: Plan) -> tuple[int, bool]:
    """The night's exit code, and whether it was built: not when its release is current and its
    exports are those it was built from (then said, and Airflow not started); YIELDED when an earlier
    night waits for the data folder (it goes first)."""
    from ingest.common.waiting import waiting_nights

    unchanged = plan.unchanged(export_date)
    if unchanged:
        print(f"socorg run {export_date}: {unchanged}", flush=True)
        _load_postgres_if_latest(data, exports, export_date)
        upload = _upload_if_missing(data, exports, export_date, args.keep_releases, args.keep_year_ends)
        return upload, False
    _prepare_airflow(data, export_date)
    earlier = waiting_nights(data, before=export_date.isoformat())
    if earlier:
        print(f"  night {earlier[0]} waits for this data folder too: it goes first", flush=True)
        return YIELDED, False
    return _run_night(args, export_date), True


def _load_postgres_if_latest(data: Path, exports: str, export_date: dt.date) -> None:
    """An unchanged latest night still loads PostgreSQL when a connection is new since its release (as
    the DAG's publish_postgres does after a skipped publish)."""
    from ingest.common.errors import StageSkipped
    from ingest.common.releases import latest_snapshot
    from ingest.orchestration import stages
    from ingest.orchestration.airflow_home import configure, output_to

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
    from ingest.common.releases import releases
    from ingest.land.landing import list_exports
    from ingest.land.storage import open_root
    from ingest.publish.fingerprint import previous_changed

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


def _upload_if_missing(
    data: Path, exports: str, export_date: dt.date, keep_releases: int | None, keep_year_ends: bool | None
) -> int:
    """An unchanged night whose upload to object storage was cut finishes it (as the DAG's
    publish_remote does after a skipped publish): only what is missing is sent."""
    from ingest.common.errors import StageSkipped
    from ingest.orchestration import stages
    from ingest.orchestration.airflow_home import configure
    from ingest.publish.remote import publish_url

    if not publish_url():
        return exit_codes.OK
    keep = stages.keep_releases_setting(keep_releases)
    ends = stages.keep_year_ends_setting(keep_year_ends)
    night = stages.Night(export_date, exports, data, keep_releases=keep, keep_year_ends=ends)
    configure()  # the bucket's connection may be in the local Airflow's metadata DB
    try:
        result = stages.publish_remote(night, published_tonight=False)
    except StageSkipped:
        return exit_codes.OK
    except SocorgError as exc:
        print(f"\nsocorg run {export_date}: published locally, NOT uploaded.\n{exc}", file=sys.stderr)
        return exit_codes.NOT_UPLOADED
    print(f"  publish_remote: {result['sent']} files sent to {result['url']}")
    return exit_codes.OK


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
        print("  " + "  ".join(task_summary(tasks)))
    if outcome == "nothing_ran":
        print(
            f"\nsocorg run {export_date}: NOT published (nothing ran).\nAirflow ran no task of the "
            f"socorg_nightly DAG for {export_date} (run state {state}); nothing was landed or published.",
            file=sys.stderr,
        )
        return exit_codes.NOTHING_RAN
    if outcome == "not_uploaded":
        reason = _failure_reason(failure, log, export_date)
        print(
            f"\nsocorg run {export_date}: published locally in {night.data / 'publish'}, NOT uploaded to "
            f"object storage.\n{reason}\nRun the night again to upload what is missing "
            f"(socorg run --date {export_date}).",
            file=sys.stderr,
        )
        return exit_codes.NOT_UPLOADED
    if outcome == "failed":
        reason = _failure_reason(failure, log, export_date)
        print(
            f"\nsocorg run {export_date}: NOT published (run state {state}).\n{reason}",
            file=sys.stderr,
        )
        _say_notes(night)
        _say_alert(night)
        # The registry export that never came (the DAG's sensor said so at its deadline): no night ran.
        missing = reason.startswith(f"wait_for_registry: {EXPORT_MISSING}")
        return exit_codes.NOTHING_RAN if missing else exit_codes.STOPPED
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


def task_summary(tasks: dict[str, dict]) -> list[str]:
    """`land: success (0.2 s)` per task; the dbt model tasks (drawn per model) counted by state.

    >>> task_summary({"transform": {"state": "success", "seconds": 6.1},
    ...               "dbt.a": {"state": "success", "seconds": 0.1},
    ...               "dbt.b": {"state": "failed", "seconds": 0}})
    ['transform: success (6.1 s)', 'dbt models: 1 success, 1 failed']
    """
    from collections import Counter

    shown, models = [], Counter()
    for task, t in tasks.items():
        if task.startswith("dbt."):
            if not models:
                shown.append("")  # where the models go, in the DAG's order
            models[t["state"]] += 1
        else:
            shown.append(f"{task}: {t['state']} ({t['seconds']:.1f} s)")
    counted = ", ".join(f"{n} {state}" for state, n in models.items())
    return [line or f"dbt models: {counted}" for line in shown]


RAN = {"success", "failed", "upstream_failed", "up_for_retry", "skipped"}  # states of a task that ran


def night_outcome(state: str, tasks: dict[str, dict]) -> str:
    """What a DAG run of one night came to: `published` (its publish task succeeded), `unchanged`
    (it pulled the exports and found its release current), `nothing_ran` (Airflow ran no task: never
    "published"), `not_uploaded` (published here, its upload to object storage failed), or `failed`.

    >>> night_outcome("success", {})
    'nothing_ran'
    >>> night_outcome("success", {"land": {"state": "success"}, "parse": {"state": "skipped"}})
    'unchanged'
    """
    states = {task: str(t.get("state")) for task, t in tasks.items()}
    if not RAN.intersection(states.values()):
        return "nothing_ran"
    if state != "success":
        uploading = states.get("publish_remote") == "failed"
        return "not_uploaded" if uploading and states.get("publish") in ("success", "skipped") else "failed"
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


def _say_notes(night) -> None:
    """The warnings the stages noted before the night stopped (files no source reads, …): a published
    night's release lists them; a stopped night has no release, so they are said here."""
    from ingest.common.notes import night_notes

    try:
        notes = night_notes(night.data, night.export_date)
    except SocorgError:
        return
    for note in notes:
        if note["level"] == "warning":
            print(f"  warning: {note['message']}", file=sys.stderr)


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
