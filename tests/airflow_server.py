"""A throwaway Airflow for tests: API server, scheduler and DAG processor (LocalExecutor), or the
components of deploy/docker-compose.yaml with Celery workers, each a process as deployed."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
from postgres_server import free_port

from ingest.common.paths import DAGS_DIR
from ingest.orchestration.airflow_home import WAREHOUSE_POOL

# The LocalExecutor's components: name → the arguments after `airflow`.
COMPONENTS = {"api-server": ["api-server"], "scheduler": ["scheduler"], "dag-processor": ["dag-processor"]}


class AirflowServer:
    """`airflow db migrate`, the one-slot pool, then each component as its own process in `home`.

    The metadata database is a fresh one on the PostgreSQL server `postgres_dsn` (as in production:
    SQLite locks up under a scheduler and a CLI at once). `env` adds to the components' environment
    (data folders, connections); `components` (name → the arguments after `airflow`) replaces the
    LocalExecutor's three, and `component_env` adds to one component's environment. Everything is
    stopped, with its children, on exit; the components' output is in `home/<component>.log`.
    """

    def __init__(
        self,
        home: Path,
        postgres_dsn: str,
        env: dict[str, str],
        components: dict[str, list[str]] | None = None,
        component_env: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.home = home
        self.components = components or COMPONENTS
        self.component_env = component_env or {}
        self.port = free_port()
        self.metadata_dsn = _new_database(postgres_dsn, "airflow_" + secrets.token_hex(4))
        address = self.metadata_dsn.split("://", 1)[1]
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg://{address}",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": f"postgresql+psycopg_async://{address}",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            **env,
        }
        self.processes: list[subprocess.Popen] = []

    def cli(self, *args: str) -> str:
        """Run an `airflow` command against this Airflow; its stdout, or an error with its output."""
        done = subprocess.run(
            [sys.executable, "-m", "airflow", *args], capture_output=True, text=True, env=self.env
        )
        if done.returncode:
            output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{output}")
        return done.stdout

    def __enter__(self) -> AirflowServer:
        self.home.mkdir(parents=True, exist_ok=True)
        self.cli("db", "migrate")
        self.cli("pools", "set", WAREHOUSE_POOL, "1", "one writer of the socorg DuckDB warehouse")
        for component, args in self.components.items():
            log = (self.home / f"{component}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "airflow", *args],
                    env={**self.env, **self.component_env.get(component, {})},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self, timeout: float = 180.0) -> None:
        url = f"http://127.0.0.1:{self.port}/api/v2/monitor/health"
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            for process, component in zip(self.processes, self.components, strict=True):
                if process.poll() is not None:
                    raise RuntimeError(f"airflow {component} exited: see {self.home / f'{component}.log'}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(1)
        raise TimeoutError(f"the Airflow API server did not answer on {url} within {timeout:.0f} s")

    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> None:
        """Until the DAG processor has parsed and serialized the DAG."""
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if self.query("select count(*) from serialized_dag where dag_id = %s", dag_id)[0][0]:
                return
            time.sleep(1)
        raise TimeoutError(f"DAG {dag_id} was not parsed within {timeout:.0f} s")

    def query(self, sql: str, *params) -> list[tuple]:
        """Read the metadata database directly (`%s` placeholders)."""
        with psycopg.connect(self.metadata_dsn) as con:
            return con.execute(sql, params or None).fetchall()

    def component_running(self, pid: int) -> str | None:
        """Which component the process `pid` runs under (a task under a Celery worker), if any."""
        for component, process in zip(self.components, self.processes, strict=True):
            if pid in _processes_in_sessions({process.pid}):
                return component
        return None

    def kill(self, component: str) -> None:
        """SIGKILL a component and every process it started (its tasks too): a machine gone."""
        process = self.processes[list(self.components).index(component)]
        for pid in _processes_in_sessions({process.pid}):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            _stop_group(process, signal.SIGTERM)
        give_up = time.monotonic() + 30
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, give_up - time.monotonic()))
            _stop_group(process, signal.SIGKILL)
        # Task processes lead process groups of their own, but stay in their component's session.
        for pid in _processes_in_sessions({process.pid for process in self.processes}):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _processes_in_sessions(sessions: set[int]) -> list[int]:
    """Ids of the processes whose session id is one of `sessions` (from /proc/<pid>/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp session
            if int(fields[3]) in sessions:
                found.append(int(stat.parent.name))
    return found


def _stop_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    """Signal the component and everything it started (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _new_database(dsn: str, name: str) -> str:
    """Create database `name` on the server of `dsn`; the DSN that connects to it."""
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'create database "{name}"')
    return dsn.rsplit("/", 1)[0] + "/" + name
