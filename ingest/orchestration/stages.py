"""The stages of a night, as the DAG's tasks call them: land, parse, validate, transform, publish."""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.common import paths
from ingest.common.dates import SCHEDULE_TZ, export_date_for, run_time_for  # noqa: F401 (re-exported)
from ingest.common.errors import EXPORT_MISSING, SettingError, SocorgError, StageSkipped
from ingest.land.storage import EXPORTS_CONN_ID

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Night:
    """What one run works on: the export date, where exports come from and data goes, and the
    Airflow connection holding the exports root's credentials."""

    export_date: dt.date
    exports: str
    data: Path
    conn_id: str | None = None
    registry_deadline: dt.time = dt.time(8, 0)
    keep_releases: int | None = None
    keep_year_ends: bool = True  # with keep_releases: the last release of every year is kept too
    force: bool = False  # rebuild even when the night's release is current
    backfill: bool = False  # a run of `airflow backfill`: a date without a registry export is skipped
    publish_url: str | None = None  # object storage the release is uploaded to (SOCORG_PUBLISH_URL)

    @property
    def deadline(self) -> dt.datetime:
        """When the registry export counts as missing: the deadline's time on D+1, Asia/Shanghai."""
        day = self.export_date + dt.timedelta(days=1)
        return dt.datetime.combine(day, self.registry_deadline, SCHEDULE_TZ)


def night_from_context(context) -> Night:
    """The night of an Airflow task: from the run's logical date and the run's params."""
    run_time = context.get("logical_date") or context["dag_run"].run_after
    params = context.get("params") or {}
    data = paths.data_dir(params.get("data"))
    deadline = params.get("registry_deadline") or os.environ.get("SOCORG_REGISTRY_DEADLINE") or "08:00"
    return Night(
        export_date=export_date_for(run_time),
        exports=paths.exports_root(params.get("exports"), data),
        data=data,
        conn_id=params.get("exports_conn_id") or EXPORTS_CONN_ID,
        registry_deadline=dt.time.fromisoformat(deadline),
        keep_releases=keep_releases_setting(params.get("keep_releases")),
        keep_year_ends=keep_year_ends_setting(params.get("keep_year_ends")),
        force=bool(params.get("force")),
        backfill=_run_type(context) == "backfill",
        publish_url=params.get("publish_url"),
    )


def _run_type(context) -> str:
    """The run's type as Airflow spells its value (`scheduled`, `manual`, `backfill`, …)."""
    run_type = getattr(context.get("dag_run"), "run_type", None)
    return str(getattr(run_type, "value", run_type) or "")


def keep_releases_setting(value: int | str | None = None) -> int | None:
    """How many releases to keep: the run's param, else `SOCORG_KEEP_RELEASES`; unset keeps them all."""
    value = value if value is not None else os.environ.get("SOCORG_KEEP_RELEASES")
    if value in (None, ""):
        return None
    keep = int(value)
    if keep < 1:
        raise SettingError(f"keep_releases must be at least 1, got {keep}")
    return keep


def failure_file(night: Night) -> Path:
    """Where a failed stage leaves its reason for `socorg run` to print."""
    return night.data / "runs" / night.export_date.isoformat() / "failure.txt"


def run_record(night: Night) -> Path:
    """`runs/<date>/run.json`: the last `socorg run` of the night, its state and each task's seconds."""
    return night.data / "runs" / night.export_date.isoformat() / "run.json"


def run_stage(stage: Callable[..., dict | bool], context, *args) -> dict | bool:
    """Run one stage function for the task's night (and `args`), holding the data folder's lock (the
    registry sensor only reads, and starts the night afresh); a failure's reason is kept for the CLI,
    then re-raised."""
    night = night_from_context(context)
    failure = failure_file(night)
    name = stage.__name__
    starts_night = stage is wait_for_registry
    if starts_night:
        from ingest.common.notes import notes_file
        from ingest.transform.results import forget_record

        failure.unlink(missing_ok=True)
        (failure.parent / "alert.json").unlink(missing_ok=True)  # of an earlier run of this night
        notes_file(night.data, night.export_date).unlink(missing_ok=True)
        forget_record(night.data, night.export_date)  # the model tasks report this run's build only
        (failure.parent / "postgres.json").unlink(missing_ok=True)
    log.info(
        "stage %s for export date %s (run time %r)",
        name,
        night.export_date,
        context.get("logical_date"),
    )
    try:
        if starts_night:
            return stage(night, *args)
        from ingest.orchestration.lock import data_folder_lock

        run_id = getattr(context.get("dag_run"), "run_id", None) or "?"
        with data_folder_lock(
            night.data, night.export_date.isoformat(), f"Airflow run {run_id}, task {name}",
            wait=lock_wait_setting(), say=log.warning,
        ):  # fmt: skip
            result = stage(night, *args)
        # A retry that worked: the reason of the attempt before it is no longer the night's.
        failure.unlink(missing_ok=True)
        LAST_FAILURES.pop(night.export_date, None)
        return result
    except StageSkipped as skipped:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(str(skipped)) from skipped
    except Exception as exc:
        record_failure(night, f"{name}: {describe_failure(exc)}")
        if isinstance(exc, SocorgError) and not getattr(exc, "retryable", False):
            # A bad file or a failed check does not mend itself on retry: fail the task for good.
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(describe_failure(exc)) from exc
        raise


def run_model_task(model: str, context) -> dict:
    """A dbt model's task (the DAG drawn per model): how the night's build went for the model and its
    tests — a failure fails the task, naming the test. Cleared and run again (a later try), or reached
    after the models it depends on were built again, it builds the model and its tests itself, holding
    the data folder's lock."""
    from airflow.sdk.exceptions import AirflowFailException

    from ingest.orchestration.lock import data_folder_lock
    from ingest.transform.dbt import build_node
    from ingest.transform.graph import load_graph
    from ingest.transform.results import data_test_lines, outcome, read_record

    night = night_from_context(context)
    node = load_graph()["nodes"][model]
    record = read_record(night.data, night.export_date)
    if record is None:
        # transform failed before dbt ran, or never ran because a task before it failed: the night
        # failed, and so does this task (a skip would carry on to publish and end the run green).
        raise AirflowFailException(
            "the night's dbt build did not run: a task before it failed (see the run's failed task)"
        )
    built = record["nodes"].get(node["id"], {})
    try_number = getattr(context.get("ti"), "try_number", 1) or 1
    if try_number > 1 or built.get("status") == "skipped":
        run_id = getattr(context.get("dag_run"), "run_id", None) or "?"
        with data_folder_lock(
            night.data, night.export_date.isoformat(), f"Airflow run {run_id}, task dbt.{model}",
            wait=lock_wait_setting(), say=log.warning,
        ):  # fmt: skip
            build_node(night.data, night.export_date, model)
        record = read_record(night.data, night.export_date) or record
    passed, message = outcome(record, node)
    log.info("%s.%s: %s", node["schema"], model, message)
    for line in data_test_lines(record, node):
        log.info("  %s", line)
    if not passed:
        record_failure(night, f"dbt.{model}: {message}")
        raise AirflowFailException(f"{node['schema']}.{model}: {message}")
    return {"model": model, "outcome": message}


def describe_failure(exc: BaseException) -> str:
    """A failure as a person reads it: our own errors say it all; a full disk gets its figures; any
    other error is named by its type, since its text alone may not say what failed."""
    if isinstance(exc, SocorgError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" writing {exc.filename}" if exc.filename else ""
        return f"no space left on the device{where}: free some space and run the night again"
    return f"{type(exc).__name__}: {exc}"


LAST_FAILURES: dict[dt.date, str] = {}


def record_failure(night: Night, reason: str) -> bool:
    """Keep the reason in `runs/<date>/failure.txt` for the CLI and the alert; on a full disk, where
    even that cannot be written, log it and remove a partial file (never a stale or empty one)."""
    failure = failure_file(night)
    LAST_FAILURES[night.export_date] = reason  # for `socorg run`, which runs the stages in-process
    try:
        failure.parent.mkdir(parents=True, exist_ok=True)
        failure.write_text(reason.rstrip("\n") + "\n", encoding="utf-8")
        return True
    except OSError as exc:
        log.error("could not write %s (%s); the failure was: %s", failure, exc, reason)
        failure.unlink(missing_ok=True)
        return False


def keep_year_ends_setting(value: bool | str | None = None) -> bool:
    """Whether retention keeps the last release of every year beside the newest N (city_by_year and
    cluster_by_year of later nights read them): the run's param, else `SOCORG_KEEP_YEAR_ENDS`; yes
    unless told otherwise.

    >>> keep_year_ends_setting(None), keep_year_ends_setting("false"), keep_year_ends_setting(False)
    (True, False, False)
    """
    value = value if value is not None else os.environ.get("SOCORG_KEEP_YEAR_ENDS")
    if value in (None, ""):
        return True
    if isinstance(value, bool):
        return value
    words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    if str(value).strip().lower() not in words:
        raise SettingError(f"SOCORG_KEEP_YEAR_ENDS must be true or false, got {value!r}")
    return words[str(value).strip().lower()]


def lock_wait_setting() -> float | None:
    """How long a task waits for another run's lock on the data folder: `SOCORG_LOCK_WAIT` seconds,
    unset waits as long as it takes."""
    value = os.environ.get("SOCORG_LOCK_WAIT")
    return float(value) if value not in (None, "") else None


def wait_for_registry(night: Night, now: dt.datetime | None = None) -> bool:
    """True once the registry export is there and every export of the night is whole (unchanged for
    the settle time, its completion marker there if the source needs one); past the deadline, a
    registry that is missing or still not whole fails the run. A backfill runs the dates the exports
    root holds: a date without a registry export by its deadline is skipped (no failure, no alert)."""
    from ingest.common.errors import ExportIncompleteError, ExportMissingError
    from ingest.land.landing import CHANGING, list_exports, source_folder, wait_until_whole
    from ingest.land.storage import open_root

    fs, root = open_root(night.exports, night.conn_id)
    late = (now or dt.datetime.now(SCHEDULE_TZ)) >= night.deadline
    registry = list_exports(fs, root, "registry", night.export_date)
    # A backfill's night still before its deadline may yet get its export: it waits, as any night does.
    if not registry and night.backfill and late:
        raise StageSkipped(
            f"no registry export for {night.export_date.isoformat()} in "
            f"{source_folder(night.exports, 'registry', night.export_date)}: a backfill runs only the "
            "dates the exports root holds"
        )
    if registry:
        waiting = wait_until_whole(fs, root, night.export_date, night.data)
        if not waiting:
            return True
        reasons = [reason for source_reasons in waiting.values() for reason in source_reasons]
        # A registry still being written is waited for, deadline or not (someone is writing it); one
        # whose completion marker has not come by the deadline fails the night.
        if late and "registry" in waiting and not any(CHANGING in r for r in waiting["registry"]):
            raise ExportIncompleteError(
                f"exports of {night.export_date.isoformat()}",
                f"still not whole at the deadline {night.deadline.isoformat(timespec='minutes')}:\n  "
                + "\n  ".join(reasons),
            )
        if late and "registry" not in waiting:  # optional sources not whole are left out, as if missing
            log.warning("at the deadline, not whole: %s", "; ".join(reasons))
            return True
        log.info("exports of %s not whole yet: %s", night.export_date, "; ".join(reasons))
        return False
    if late:
        raise ExportMissingError(
            f"{EXPORT_MISSING} no registry export for {night.export_date.isoformat()} in "
            f"{source_folder(night.exports, 'registry', night.export_date)} by the deadline "
            f"{night.deadline.isoformat(timespec='minutes')}"
        )
    log.info("registry export for %s not there yet; waiting until %s", night.export_date, night.deadline)
    return False


def land(night: Night) -> dict:
    """Copy the night's exports into landing/; optional sources that did not come are reported."""
    from ingest.land.landing import land_night, missing_sources
    from ingest.publish.retention import keep_raw_nights_setting
    from ingest.rules.site import check_site
    from ingest.transform.history_state import check_night_buildable
    from ingest.validate.context import index_nights_setting

    check_site()  # a broken site file stops the night before anything is landed
    keep_raw_nights_setting()  # a bad SOCORG_KEEP_RAW_NIGHTS too
    index_nights_setting()  # or SOCORG_DATA_DOCS_NIGHTS
    check_night_buildable(night.data, night.export_date)
    landed = land_night(night.exports, night.export_date, night.data, night.conn_id)
    missing = missing_sources(night.data, night.export_date)
    current = [f for f in landed if not f.superseded]
    return {"files": len(current), "new": sum(not f.already_landed for f in current), "missing": missing}


def parse(night: Night) -> dict:
    """Parse landed files into raw/ and quarantine; counts per file go to the load log.

    A night whose release is current (same exports, code and earlier nights) is skipped, and with it
    everything after: re-running an unchanged night costs the pull and a check.
    """
    from ingest.parse.night import parse_night
    from ingest.publish.fingerprint import unchanged_release

    reason = None if night.force else unchanged_release(night.data, night.export_date)
    if reason:
        raise StageSkipped(reason)

    loads = parse_night(night.data, night.export_date)
    return {
        "files": len(loads),
        "rows_read": sum(x.rows_read for x in loads),
        "rows_loaded": sum(x.rows_loaded for x in loads),
        "rows_quarantined": sum(x.rows_quarantined for x in loads),
    }


def validate(night: Night) -> dict:
    """Run the Great Expectations gate on the raw batches."""
    from ingest.validate.gate import validate_night

    return validate_night(night.data, night.export_date)


def transform(night: Night) -> dict:
    """Build and test the marts with dbt."""
    from ingest.transform.dbt import build_marts

    return build_marts(night.data, night.export_date)


def publish(night: Night) -> dict:
    """Publish Parquet, the release index, and move latest."""
    from ingest.publish.night import publish_night
    from ingest.publish.retention import keep_raw_nights_setting

    result = publish_night(
        night.data, night.export_date, night.keep_releases, keep_raw_nights_setting(), night.keep_year_ends
    )
    return {
        "release": result["release"],
        "datasets": len(result["files"]),
        "pruned": result["pruned"],
        "pruned_raw_nights": result["pruned_raw_nights"],
    }


def publish_remote(night: Night, published_tonight: bool = True) -> dict:
    """Upload the night's release to object storage (`SOCORG_PUBLISH_URL`, credentials from the Airflow
    connection `socorg_publish`), latest.json last; without a URL there is nothing to upload, and the
    night's Asset events go out when the release was published tonight.

    Also after a publish skipped for an unchanged night: the upload of an earlier run may have been cut,
    and only what is missing is sent (skipped when nothing was).
    """
    from ingest.common.releases import release_dir
    from ingest.publish.remote import URL_SETTING, publish_url
    from ingest.publish.remote import publish_remote as upload

    date = night.export_date.isoformat()
    release = release_dir(night.data / "publish", date) / "index.json"
    url = publish_url(night.publish_url)
    if not url:
        if not published_tonight:
            raise StageSkipped(f"release {date} was not published tonight, and no {URL_SETTING} is set")
        return {"snapshot_date": date, "release": str(release), "url": None}
    if not release.exists():
        raise StageSkipped(f"no release of {date} in {night.data / 'publish'} to upload")
    result = upload(night.data, date, url, night.keep_releases, night.keep_year_ends)
    if not published_tonight and not result["sent"]:
        raise StageSkipped(f"release {date} is on {result['url']} already, whole")
    return {"snapshot_date": date, **result}


def publish_postgres(night: Night) -> dict:
    """Load the release into PostgreSQL when the Airflow connection `socorg_postgres` exists.

    Only the newest night is loaded: PostgreSQL holds what latest.json points at, so a backfill of
    older nights skips this step. It also runs when an unchanged night skipped the publish (the
    connection may be new), and skips when PostgreSQL already holds that very release.
    """
    from ingest.common.files import sha256_of
    from ingest.common.releases import latest_snapshot, release_dir
    from ingest.publish.postgres import POSTGRES_CONN_ID, dsn_from_airflow, loaded_index_sha256
    from ingest.publish.postgres import publish_postgres as load

    dsn = dsn_from_airflow()
    if not dsn:
        raise StageSkipped(f"no Airflow connection {POSTGRES_CONN_ID}: PostgreSQL is not configured")
    latest = latest_snapshot(night.data / "publish")
    if latest != night.export_date.isoformat():
        raise StageSkipped(
            f"{night.export_date} is not the latest release ({latest}); PostgreSQL keeps {latest}"
        )
    schema = os.environ.get("SOCORG_POSTGRES_SCHEMA", "socorg")
    index = release_dir(night.data / "publish", latest) / "index.json"
    if loaded_index_sha256(dsn, schema) == sha256_of(index):
        raise StageSkipped(f"PostgreSQL schema {schema} already holds release {latest}")
    result = load(night.data, dsn, schema, latest)
    _note_postgres_load(night, dsn, result)
    return {"schema": result["schema"], "rows": sum(result["tables"].values())}


def _note_postgres_load(night: Night, dsn: str, result: dict) -> None:
    """`runs/<date>/postgres.json`: where the night's release was loaded (no credentials), for lineage."""
    from urllib.parse import urlsplit

    from ingest.common.files import write_json_atomically

    parts = urlsplit(dsn) if "://" in dsn else None
    where = {
        "host": (parts.hostname if parts else None) or "localhost",
        "port": (parts.port if parts else None) or 5432,
        "database": (parts.path.lstrip("/") if parts else "") or "postgres",
    }
    record = {**where, "schema": result["schema"], "tables": result["tables"]}
    write_json_atomically(night.data / "runs" / night.export_date.isoformat() / "postgres.json", record)
