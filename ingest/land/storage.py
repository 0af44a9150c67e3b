"""Open the exports root from its URL (local, s3://, sftp://, …) with credentials kept outside the repo."""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import urlparse

log = logging.getLogger(__name__)
EXPORTS_CONN_ID = "socorg_exports"


def connection_options(url: str, conn_id: str | None) -> dict:
    """fsspec storage options from an Airflow connection (also `AIRFLOW_CONN_<ID>` in the environment).

    S3: login = access key, password = secret, extra `endpoint_url` / `region_name`.
    SFTP: login = user, password, port. No connection: the protocol's own environment
    (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, …) or the URL.
    """
    scheme = urlparse(url).scheme
    if scheme in ("", "file", "local") or not conn_id:
        return {}
    conn = airflow_connection(conn_id)
    if conn is None:
        return {}
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else json.loads(conn.extra or "{}")
    if scheme in ("s3", "s3a"):
        options: dict = {"key": conn.login, "secret": conn.password}
        client = {k: extra[k] for k in ("endpoint_url", "region_name") if extra.get(k)}
        if client:
            options["client_kwargs"] = client
        return options
    if scheme == "sftp":
        options = {"username": conn.login, "password": conn.password}
        if conn.port:
            options["port"] = conn.port
        return {k: v for k, v in options.items() if v is not None}
    return dict(extra)


def airflow_connection(conn_id: str):
    """The connection if Airflow knows it (metadata DB, secrets backend or environment), else None."""
    if not os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}") and "AIRFLOW_HOME" not in os.environ:
        return None
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # Airflow raises its own not-found error, by version
        log.info("no Airflow connection %s (%s); using the environment", conn_id, exc)
        return None


def open_root(url: str, conn_id: str | None = EXPORTS_CONN_ID):
    """(filesystem, root path) for an exports root URL."""
    import fsspec

    return fsspec.core.url_to_fs(url, **connection_options(url, conn_id))


def is_local(fs) -> bool:
    """Whether an fsspec filesystem is this machine's disk (its files may be read by several threads)."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    return "file" in protocols
