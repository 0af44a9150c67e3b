"""A real S3 API on loopback for tests (moto_server), and a TCP relay before it that can cut uploads."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from postgres_server import free_port

KEY, SECRET, REGION = "socorg-test-key", "socorg-test-secret", "us-east-1"


class S3Server:
    """`moto_server` on a free port, with one bucket; `connection(endpoint)` is the Airflow connection
    `socorg_publish` as a deployment writes it (`AIRFLOW_CONN_SOCORG_PUBLISH`)."""

    def __init__(self, bucket: str = "releases") -> None:
        self.bucket = bucket
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> S3Server:
        moto = Path(sys.executable).parent / "moto_server"
        self.process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        give_up = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > give_up or self.process.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
            region_name=REGION,
        )  # fmt: skip

    def connection(self, endpoint: str | None = None) -> str:
        """The connection's JSON: the keys, and the endpoint (this server's, or a relay's)."""
        extra = {"endpoint_url": endpoint or self.endpoint, "region_name": REGION}
        return json.dumps({"conn_type": "aws", "login": KEY, "password": SECRET, "extra": extra})

    def storage_options(self) -> dict:
        """What pandas, polars (via fsspec) and s3fs take to read the bucket."""
        return {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": self.endpoint}}

    def objects(self, prefix: str) -> dict[str, int]:
        """Every object under `prefix`: its key (after the prefix) and bytes."""
        found, token = {}, {}
        while True:
            page = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix + "/", **token)
            found.update({o["Key"][len(prefix) + 1 :]: o["Size"] for o in page.get("Contents", [])})
            if not page.get("IsTruncated"):
                return found
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.process.kill()


class CuttingRelay:
    """A TCP relay to `port` that passes `budget` bytes from clients to the server, then drops every
    connection and refuses new ones: the network going away in the middle of an upload."""

    def __init__(self, port: int, budget: int) -> None:
        self.target, self.budget, self.cut = port, budget, threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []

    def __enter__(self) -> CuttingRelay:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self.cut.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        with contextlib.suppress(OSError):
            while not self.cut.is_set():
                chunk = source.recv(1 << 16)
                if not chunk:
                    break
                if upstream:
                    with self.lock:
                        self.budget -= len(chunk)
                    if self.budget < 0:
                        self._cut()
                        return
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _cut(self) -> None:
        self.cut.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.close()

    def __exit__(self, *exc) -> None:
        self._cut()
