"""Failure alerts: the webhook's URL from an Airflow connection, and the JSON a failed task posts."""

from __future__ import annotations

import datetime as dt

import pytest
from airflow.sdk import Connection
from runner import Webhook

from ingest.orchestration.alerts import post, webhook_url


@pytest.mark.parametrize(
    ("uri", "url"),
    [
        ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook"),
        ("https://hooks.example.org/services/T0/B1", "https://hooks.example.org/services/T0/B1"),
        ("http://alerts.internal", "http://alerts.internal/"),
    ],
)
def test_the_webhook_url_is_the_connection_uri(uri, url):
    assert webhook_url(Connection.from_uri(uri, conn_id="socorg_alerts")) == url


def test_a_host_that_is_a_url_is_taken_as_it_is():
    conn = Connection(conn_id="socorg_alerts", conn_type="http", host="https://hooks.example.org/x")
    assert webhook_url(conn) == "https://hooks.example.org/x"


def test_an_alert_is_posted_as_json():
    with Webhook() as webhook:
        payload = {"dag": "socorg_nightly", "task": "validate", "reason": "质量检查未通过"}
        assert post(webhook.url, payload) == 204
    assert webhook.posts == [
        {"path": "/alerts", "content_type": "application/json; charset=utf-8", "body": payload}
    ]


def test_a_missed_deadline_posts_an_alert_naming_the_night(monkeypatch):
    """The DAG's deadline callback, called as Airflow calls it: the run as the REST API shows it."""
    from ingest.orchestration.alerts import on_deadline_missed

    context = {
        "dag_run": {
            "dag_id": "socorg_nightly",
            "dag_run_id": "scheduled__2023-11-01T02:00:00+08:00",
            "logical_date": "2023-10-31T18:00:00Z",
            "queued_at": "2023-10-31T18:00:01.5Z",
            "run_type": "scheduled",
            "state": "running",
        },
        "deadline": {"id": "d1", "deadline_time": "2023-10-31T23:00:00Z"},
    }
    with Webhook() as webhook:
        monkeypatch.setenv("AIRFLOW_CONN_SOCORG_ALERTS", webhook.url)
        on_deadline_missed(context=context, deadline="07:00")
    [alert] = [p["body"] for p in webhook.posts]
    assert alert["dag"] == "socorg_nightly"
    assert alert["run"] == "scheduled__2023-11-01T02:00:00+08:00"
    assert alert["export_date"] == "2023-10-31"
    assert alert["state"] == "running"
    assert alert["reason"] == (
        "deadline missed: the run was not finished by 07:00 (Asia/Shanghai) on the morning after"
    )


def test_a_run_queued_after_its_deadline_is_not_alerted(monkeypatch):
    """A backfilled night is past its deadline before it starts: no page for it."""
    from ingest.orchestration.alerts import on_deadline_missed

    context = {
        "dag_run": {
            "dag_id": "socorg_nightly",
            "dag_run_id": "backfill__2023-11-01T02:00:00+08:00",
            "logical_date": "2023-10-31T18:00:00Z",
            "queued_at": "2026-11-23T12:43:40.614Z",
            "run_type": "backfill",
            "state": "queued",
        },
        "deadline": {"id": "d1", "deadline_time": dt.datetime(2023, 10, 31, 23, tzinfo=dt.UTC)},
    }
    with Webhook() as webhook:
        monkeypatch.setenv("AIRFLOW_CONN_SOCORG_ALERTS", webhook.url)
        on_deadline_missed(context=context, deadline="07:00")
    assert webhook.posts == []
