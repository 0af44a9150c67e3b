"""Failure alerts: a short JSON message posted to the webhook of the Airflow connection `socorg_alerts`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)
ALERTS_CONN_ID = "socorg_alerts"


def webhook_url(conn) -> str:
    """The URL an HTTP connection names: `http://host:port/path` as `AIRFLOW_CONN_…` URIs write it.

    A URI `http://127.0.0.1:8080/hook` arrives as conn_type `http`, host, port and schema `hook`;
    a host that is itself a URL (`https://hooks.example.org/T0/B1`) is taken as it is.
    """
    host = (conn.host or "").rstrip("/")
    if host.startswith(("http://", "https://")):
        return host + (f"/{conn.schema}" if conn.schema else "")
    scheme = "https" if conn.conn_type == "https" else "http"
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{host}{port}/{conn.schema or ''}"


def alert_payload(context) -> dict:
    """dag, run, task, reason and the Data Docs link of a failed task."""
    from ingest.orchestration.stages import failure_file, night_from_context

    ti = context["ti"]
    night = night_from_context(context)
    failure = failure_file(night)
    reason = failure.read_text(encoding="utf-8").strip() if failure.exists() else ""
    return {
        "dag": ti.dag_id,
        "run": ti.run_id,
        "task": ti.task_id,
        "export_date": night.export_date.isoformat(),
        "reason": reason or str(context.get("exception") or "unknown"),
        # Before the first validation of a data folder there are no Data Docs: no link to nothing.
        "data_docs": data_docs_link(night.data)
        if (night.data / "docs" / "gx" / "index.html").exists()
        else None,
    }


def alert_record(data: Path, export_date: str) -> Path:
    """`runs/<date>/alert.json`: whether the night's failure alert was delivered, for the CLI to say."""
    return data / "runs" / export_date / "alert.json"


def data_docs_link(data: Path) -> str:
    """Where the Data Docs are: under `SOCORG_DOCS_URL` when the docs folder is served, else a file URI."""
    base = os.environ.get("SOCORG_DOCS_URL")
    if base:
        return base.rstrip("/") + "/gx/index.html"
    return (data / "docs" / "gx" / "index.html").resolve().as_uri()


def post(url: str, payload: dict, timeout: float = 10.0) -> int:
    """POST the payload as JSON; return the HTTP status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URL from config)
        return response.status


def on_failure(context) -> None:
    """Airflow's `on_failure_callback`: alert the webhook; without one configured, only log. What came
    of it is kept in `runs/<date>/alert.json` for `socorg run` to say."""
    from ingest.common.files import write_json_atomically
    from ingest.orchestration.stages import night_from_context

    outcome = _send(alert_payload(context))
    night = night_from_context(context)
    try:
        write_json_atomically(alert_record(night.data, night.export_date.isoformat()), outcome)
    except OSError as exc:  # a full disk: the log has it
        log.error("could not record the alert's outcome: %s", exc)


def _send(payload: dict) -> dict:
    """Post an alert to the configured webhook; without one, or when it is down, log it instead.
    Returns what happened: {"delivered": bool, "to": conn id, "detail": …}."""
    from ingest.land.storage import airflow_connection

    conn_id = os.environ.get("SOCORG_ALERTS_CONN_ID", ALERTS_CONN_ID)
    conn = airflow_connection(conn_id)
    if conn is None:
        log.warning("no alert webhook (Airflow connection %s); alert: %s", conn_id, payload)
        return {"delivered": False, "configured": False, "to": conn_id, "detail": "no webhook configured"}
    try:
        status = post(webhook_url(conn), payload)
        log.info("alert posted to %s (HTTP %s)", conn_id, status)
        return {"delivered": True, "configured": True, "to": conn_id, "detail": f"HTTP {status}"}
    except OSError as exc:  # the run has failed already; a dead webhook must not hide why
        log.error("could not post the alert to %s: %s; alert: %s", conn_id, exc, payload)
        return {
            "delivered": False,
            "configured": True,
            "to": conn_id,
            "detail": f"could not be posted: {exc}",
        }


def deadline_payload(context: dict, deadline: str) -> dict:
    """dag, run, export date and the reason of a run that was not finished by its deadline."""
    from ingest.common.dates import export_date_for

    run = context.get("dag_run") or {}
    logical = run.get("logical_date")
    export_date = export_date_for(dt.datetime.fromisoformat(logical)).isoformat() if logical else None
    return {
        "dag": run.get("dag_id"),
        "run": run.get("dag_run_id"),
        "task": None,
        "export_date": export_date,
        "reason": f"deadline missed: the run was not finished by {deadline} (Asia/Shanghai) "
        "on the morning after",
        "state": run.get("state"),
    }


def on_deadline_missed(context: dict | None = None, deadline: str = "", **_) -> None:
    """The DAG's deadline callback: the same webhook as failures, with the deadline as the reason.

    A run queued after its deadline had passed (a backfill, a rerun of an old night) was late before it
    began: it is logged, not alerted, so a month's backfill does not page anyone thirty times.
    """
    context = context or {}
    if queued_after_deadline(context):
        run = (context.get("dag_run") or {}).get("dag_run_id")
        log.info("run %s was queued after its deadline had passed; no deadline alert", run)
        return
    _send(deadline_payload(context, deadline))


def queued_after_deadline(context: dict) -> bool:
    """Whether the run was queued after its deadline time (both as Airflow hands them to the callback)."""
    queued = (context.get("dag_run") or {}).get("queued_at")
    deadline_time = (context.get("deadline") or {}).get("deadline_time")
    if not queued or not deadline_time:
        return False
    return _instant(queued) > _instant(deadline_time)


def _instant(value) -> dt.datetime:
    """An ISO string or a datetime, as an aware datetime (naive means UTC, as Airflow stores it)."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
