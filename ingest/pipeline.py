"""The stages of a night, as the DAG's tasks call them: land, parse, validate, transform, publish."""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest import paths
from ingest.errors import SocorgError, StageSkipped
from ingest.locations import EXPORTS_CONN_ID

log = logging.getLogger(__name__)

SCHEDULE_TZ = ZoneInfo("Asia/Shanghai")


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
    force: bool = False  # rebuild even when the night's release is current

    @property
    def deadline(self) -> dt.datetime:
        """When the registry export counts as missing: the deadline's time on D+1, Asia/Shanghai."""
        day = self.export_date + dt.timedelta(days=1)
        return dt.datetime.combine(day, self.registry_deadline, SCHEDULE_TZ)


def export_date_for(run_time: dt.datetime) -> dt.date:
    """The run scheduled at 02:00 on D+1 (Asia/Shanghai) processes the exports of D.

    >>> export_date_for(dt.datetime(2023, 11, 1, 2, 0, tzinfo=SCHEDULE_TZ))
    datetime.date(2023, 10, 31)
    """
    # Via the timestamp: pendulum's DateTime (what Airflow hands over) mis-subtracts across zones.
    local = dt.datetime.fromtimestamp(run_time.timestamp(), SCHEDULE_TZ)
    return local.date() - dt.timedelta(days=1)


def run_time_for(export_date: dt.date) -> dt.datetime:
    """The scheduled run time that processes an export date (inverse of export_date_for)."""
    return dt.datetime.combine(export_date + dt.timedelta(days=1), dt.time(2), SCHEDULE_TZ)


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
        force=bool(params.get("force")),
    )


def keep_releases_setting(value: int | str | None = None) -> int | None:
    """How many releases to keep: the run's param, else `SOCORG_KEEP_RELEASES`; unset keeps them all."""
    value = value if value is not None else os.environ.get("SOCORG_KEEP_RELEASES")
    if value in (None, ""):
        return None
    keep = int(value)
    if keep < 1:
        raise ValueError(f"keep_releases must be at least 1, got {keep}")
    return keep


def failure_file(night: Night) -> Path:
    """Where a failed stage leaves its reason for `socorg run` to print."""
    return night.data / "runs" / night.export_date.isoformat() / "failure.txt"


def run_record(night: Night) -> Path:
    """`runs/<date>/run.json`: the last `socorg run` of the night, its state and each task's seconds."""
    return night.data / "runs" / night.export_date.isoformat() / "run.json"


def run_stage(name: str, context) -> dict | bool:
    """Run one stage for the task's night; a failure's reason is kept for the CLI, then re-raised."""
    night = night_from_context(context)
    failure = failure_file(night)
    if name == STAGES[0]:
        failure.unlink(missing_ok=True)
    log.info(
        "stage %s for export date %s (run time %r)",
        name,
        night.export_date,
        context.get("logical_date"),
    )
    try:
        return STAGE_FUNCTIONS[name](night)
    except StageSkipped as skipped:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(str(skipped)) from skipped
    except Exception as exc:
        failure.parent.mkdir(parents=True, exist_ok=True)
        failure.write_text(f"{name}: {exc}\n", encoding="utf-8")
        if isinstance(exc, SocorgError):
            # A bad file or a failed check does not mend itself on retry: fail the task for good.
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(str(exc)) from exc
        raise


def wait_for_registry(night: Night, now: dt.datetime | None = None) -> bool:
    """True once the registry export is there; past the deadline its absence fails the run."""
    from ingest.errors import ExportMissingError
    from ingest.land import list_exports, source_folder
    from ingest.locations import open_root

    fs, root = open_root(night.exports, night.conn_id)
    if list_exports(fs, root, "registry", night.export_date):
        return True
    if (now or dt.datetime.now(SCHEDULE_TZ)) >= night.deadline:
        raise ExportMissingError(
            f"export missing: no registry export for {night.export_date.isoformat()} in "
            f"{source_folder(night.exports, 'registry', night.export_date)} by the deadline "
            f"{night.deadline.isoformat(timespec='minutes')}"
        )
    log.info("registry export for %s not there yet; waiting until %s", night.export_date, night.deadline)
    return False


def land(night: Night) -> dict:
    """Copy the night's exports into landing/; optional sources that did not come are reported."""
    from ingest.land import land_night, missing_sources

    landed = land_night(night.exports, night.export_date, night.data, night.conn_id)
    missing = missing_sources(night.data, night.export_date)
    current = [f for f in landed if not f.superseded]
    return {"files": len(current), "new": sum(not f.already_landed for f in current), "missing": missing}


def parse(night: Night) -> dict:
    """Parse landed files into raw/ and quarantine; counts per file go to the load log.

    A night whose release is current (same exports, code and earlier nights) is skipped, and with it
    everything after: re-running an unchanged night costs the pull and a check.
    """
    from ingest.raw import parse_night
    from ingest.unchanged import unchanged_release

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
    from ingest.transform import build_marts

    return build_marts(night.data, night.export_date)


def publish(night: Night) -> dict:
    """Publish Parquet, the release index, and move latest."""
    from ingest.publish import publish_night

    result = publish_night(night.data, night.export_date, night.keep_releases)
    return {"release": result["release"], "datasets": len(result["files"]), "pruned": result["pruned"]}


def publish_postgres(night: Night) -> dict:
    """Load the release into PostgreSQL when the Airflow connection `socorg_postgres` exists.

    Only the newest night is loaded: PostgreSQL holds what latest.json points at, so a backfill of
    older nights skips this step. It also runs when an unchanged night skipped the publish (the
    connection may be new), and skips when PostgreSQL already holds that very release.
    """
    from ingest.postgres import POSTGRES_CONN_ID, dsn_from_airflow, loaded_index_sha256
    from ingest.postgres import publish_postgres as load
    from ingest.release import latest_snapshot, release_dir, sha256_of

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
    return {"schema": result["schema"], "rows": sum(result["tables"].values())}


STAGE_FUNCTIONS = {
    "wait_for_registry": wait_for_registry,
    "land": land,
    "parse": parse,
    "validate": validate,
    "transform": transform,
    "publish": publish,
    "publish_postgres": publish_postgres,
}
STAGES = tuple(STAGE_FUNCTIONS)
