"""Exports roots on object storage and SFTP, against real servers on loopback started by the tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import socket
import threading
from pathlib import Path

import pytest

from ingest.land.landing import land_night, missing_sources
from ingest.sample.generate import write_sample

DATE = dt.date(2023, 10, 31)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    write_sample(out, DATE, "suzhou", seed=3)
    return out


def local_digests(exports: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in exports.glob(f"*/{DATE.isoformat()}/*")
        if p.is_file()
    }


@pytest.fixture
def s3(monkeypatch):
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    connection = {
        "conn_type": "aws",
        "login": "socorg-test-key",
        "password": "socorg-test-secret",
        "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SOCORG_EXPORTS", json.dumps(connection))
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    yield endpoint
    server.stop()


def test_exports_on_s3_with_credentials_from_an_airflow_connection(s3, exports, tmp_path):
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3,
        aws_access_key_id="socorg-test-key",
        aws_secret_access_key="socorg-test-secret",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="exports")
    for path in exports.glob(f"*/{DATE.isoformat()}/*"):
        client.upload_file(str(path), "exports", f"nightly/{path.relative_to(exports).as_posix()}")
    landed = land_night("s3://exports/nightly", DATE, tmp_path, conn_id="socorg_exports")
    assert {f.name: f.sha256 for f in landed} == local_digests(exports)
    for f in landed:
        assert hashlib.sha256(Path(f.path).read_bytes()).hexdigest() == f.sha256
        assert f.origin.startswith("exports/nightly/")


def test_connection_options_map_an_airflow_connection(monkeypatch):
    from ingest.land.storage import connection_options

    s3 = {"conn_type": "aws", "login": "k", "password": "s", "extra": {"endpoint_url": "http://h:1"}}
    monkeypatch.setenv("AIRFLOW_CONN_SOCORG_EXPORTS", json.dumps(s3))
    assert connection_options("s3://b/p", "socorg_exports") == {
        "key": "k",
        "secret": "s",
        "client_kwargs": {"endpoint_url": "http://h:1"},
    }
    assert connection_options("/local/folder", "socorg_exports") == {}
    sftp = {"conn_type": "sftp", "login": "u", "password": "p", "port": 2222}
    monkeypatch.setenv("AIRFLOW_CONN_SOCORG_EXPORTS", json.dumps(sftp))
    assert connection_options("sftp://h/x", "socorg_exports") == {
        "username": "u",
        "password": "p",
        "port": 2222,
    }
    monkeypatch.delenv("AIRFLOW_CONN_SOCORG_EXPORTS")
    assert connection_options("s3://b/p", "socorg_missing") == {}


@pytest.mark.e2e
def test_a_night_through_the_dag_from_s3(s3, exports, tmp_path):
    import os
    import subprocess
    import sys

    import boto3
    import duckdb

    client = boto3.client(
        "s3", endpoint_url=s3, aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1"
    )
    client.create_bucket(Bucket="night")
    for path in exports.glob(f"*/{DATE.isoformat()}/*"):
        client.upload_file(str(path), "night", path.relative_to(exports).as_posix())
    env = {**os.environ, "SOCORG_DATA": str(tmp_path / "data")}
    run = subprocess.run(
        [sys.executable, "-m", "ingest.cli", "run", "--date", DATE.isoformat(), "--exports", "s3://night"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = tmp_path / "data" / "publish" / "city_summary" / "*" / "*.parquet"
    rows = duckdb.sql(f"select city_code, active_org_count from read_parquet('{summary}')").fetchall()
    assert rows == [("320500", 7724)]


@pytest.fixture
def sftp(tmp_path, monkeypatch):
    import asyncssh

    root = tmp_path / "sftp-root"
    root.mkdir()
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()

    class Server(asyncssh.SSHServer):
        def password_auth_supported(self):
            return True

        def validate_password(self, username, password):
            return (username, password) == ("socorg", "s3cret")

    async def serve():
        key = asyncssh.generate_private_key("ssh-ed25519")
        return await asyncssh.listen(
            "127.0.0.1",
            port,
            server_host_keys=[key],
            server_factory=Server,
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root).encode()),
        )

    def run():
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(serve())
        loop.call_soon(started.set)
        loop.run_forever()
        server.close()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    connection = {"conn_type": "sftp", "login": "socorg", "password": "s3cret", "port": port}
    monkeypatch.setenv("AIRFLOW_CONN_SOCORG_EXPORTS", json.dumps(connection))
    yield root, port
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_exports_on_sftp_with_credentials_from_an_airflow_connection(sftp, exports, tmp_path):
    import shutil

    root, port = sftp
    for source in ("registry", "membership"):
        shutil.copytree(exports / source, root / "exports" / source)
    landed = land_night(f"sftp://127.0.0.1:{port}/exports", DATE, tmp_path, conn_id="socorg_exports")
    expected = {
        k: v
        for k, v in local_digests(exports).items()
        if k.startswith(("registry_", "membership_"))  # the lists were not copied to the server
    }
    assert {f.name: f.sha256 for f in landed} == expected
    assert missing_sources(tmp_path, DATE) == ["qualifications", "funding"]
