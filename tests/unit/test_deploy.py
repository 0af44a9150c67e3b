"""The deployment files in deploy/: the image's Dockerfile, the Celery compose file, the pod template."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from compose_topology import COMPOSE_FILE, DOCKERFILE, compose_commands, compose_config, run_compose

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / "deploy"
BIN = Path(sys.executable).parent
IMAGE = "apache/airflow:3.3.2-python3.11"
APP = "/opt/socorg/app"  # where the Dockerfile puts the checkout's runtime folders

# The variables the compose file requires (`${VAR:?…}`), with distinct values to follow through it.
SECRETS = {
    "AIRFLOW_FERNET_KEY": "test-fernet-key",
    "AIRFLOW_JWT_SECRET": "test-jwt-secret",
    "AIRFLOW_API_SECRET_KEY": "test-api-secret-key",
    "_AIRFLOW_WWW_USER_PASSWORD": "test-admin-password",
}
SHARED_SETTINGS = {  # Airflow setting -> the variable of SECRETS that every process must get
    "AIRFLOW__CORE__FERNET_KEY": "AIRFLOW_FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET": "AIRFLOW_JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY": "AIRFLOW_API_SECRET_KEY",
}
EXPECTED_COMMANDS = {
    "airflow-apiserver": ["api-server"],
    "airflow-scheduler": ["scheduler"],
    "airflow-dag-processor": ["dag-processor"],
    "airflow-triggerer": ["triggerer"],
    "airflow-worker": ["celery", "worker", "--queues", "socorg,default"],
    "airflow-worker-2": ["celery", "worker", "--queues", "socorg,default"],
}


def run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60, **kwargs)


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, (INSTRUCTION, arguments) with continuation lines joined, by stage."""
    stages: list[list[tuple[str, str]]] = []
    logical = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        logical += line.rstrip().removesuffix("\\") + " "
        if line.rstrip().endswith("\\"):
            continue
        instruction, _, arguments = logical.strip().partition(" ")
        logical = ""
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), " ".join(arguments.split())))
    return stages


def copies(stage: list[tuple[str, str]]) -> list[tuple[list[str], str]]:
    """The stage's COPY instructions from the build context: (sources, destination)."""
    found = []
    for instruction, arguments in stage:
        words = [w for w in shlex.split(arguments) if not w.startswith("--")]
        if instruction == "COPY" and "--from=" not in arguments:
            found.append((words[:-1], words[-1]))
    return found


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    return dict(
        word.split("=", 1)
        for instruction, arguments in stage
        if instruction == "ENV"
        for word in shlex.split(arguments)
    )


def airflow_services(config: dict) -> dict[str, dict]:
    return {name: s for name, s in config["services"].items() if name.startswith("airflow-")}


def workers(config: dict) -> dict[str, dict]:
    return {
        name: s
        for name, s in config["services"].items()
        if " ".join(s.get("command") or []).startswith("celery worker")
    }


@pytest.fixture(scope="module")
def config() -> dict:
    return compose_config(SECRETS)


def test_the_dockerfile_passes_hadolint():
    done = run(BIN / "hadolint", DOCKERFILE)
    assert done.returncode == 0, f"hadolint:\n{done.stdout}{done.stderr}"


def test_the_image_extends_airflows_and_installs_our_lock_beside_airflows_pin():
    stages = dockerfile_stages()
    assert [stage[0] for stage in stages] == [("FROM", f"{IMAGE} AS requirements"), ("FROM", IMAGE)]
    builder, image = stages
    assert any(
        "uv==" in args and "uv export --frozen --no-dev --no-emit-project --no-hashes" in args
        for instruction, args in builder
        if instruction == "RUN"
    )
    runs = [args for instruction, args in image if instruction == "RUN"]
    assert any('pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r ' in args for args in runs)
    assert any(
        f"pip install --no-cache-dir --no-deps -e {APP}" in args and "pip check" in args for args in runs
    )
    assert env_of(image) == {
        "SOCORG_DATA": "/opt/socorg/data",
        "SOCORG_SITE": "/opt/socorg/site",
        "AIRFLOW__CORE__DAGS_FOLDER": f"{APP}/dags",
    }


def test_no_pip_install_runs_as_root_and_the_image_ends_as_airflow():
    for stage in dockerfile_stages():
        user = "airflow"  # the official image's last USER
        for instruction, arguments in stage:
            if instruction == "USER":
                user = arguments
            elif instruction == "RUN" and "pip install" in arguments:
                assert user not in ("root", "0", "0:0"), f"pip install as {user}: {arguments}"
        assert user in ("airflow", "50000"), f"a stage ends as user {user}"


def test_the_image_holds_every_runtime_folder_of_the_checkout():
    """The package finds dbt_project/ and dags/ beside ingest/ (ingest/common/paths.py), so all three
    go to /opt/socorg/app; dbt_project/ whole but its local build output."""
    copied = {}
    for sources, destination in copies(dockerfile_stages()[-1]):
        for source in sources:
            assert (PROJECT / source).exists(), f"COPY {source}: not in the build context"
            into_folder = destination.endswith("/") and not source.endswith("/")
            copied[source.rstrip("/")] = (
                destination + Path(source).name if into_folder else destination.rstrip("/")
            )
    assert copied["ingest"] == f"{APP}/ingest"
    assert copied["dags"] == f"{APP}/dags" == env_of(dockerfile_stages()[-1])["AIRFLOW__CORE__DAGS_FOLDER"]
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        assert copied[name] == f"{APP}/{name}"
    local_only = {"target", "logs", "dbt_packages", ".user.yml", ".sqlfluff"}
    for entry in (PROJECT / "dbt_project").iterdir():
        if entry.name not in local_only:
            assert copied.get(f"dbt_project/{entry.name}") == f"{APP}/dbt_project/{entry.name}", entry.name
    assert "dbt_project/graph.json" in copied


def test_the_compose_file_resolves_with_the_required_variables():
    done = run_compose(SECRETS, "config", "--quiet")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_the_compose_file_refuses_to_resolve_without_each_required_variable(missing):
    done = run_compose({k: v for k, v in SECRETS.items() if k != missing}, "config", "--quiet")
    assert done.returncode != 0
    assert f"required variable {missing} is missing" in done.stderr


def test_the_compose_file_passes_the_compose_spec_schema():
    done = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE_FILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_services_of_a_celery_deployment(config):
    services = config["services"]
    for name in ("postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        assert name in services
    assert "airflow-triggerer" in services and "airflow-init" in services
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7.2-bookworm"
    api = services["airflow-apiserver"]
    assert api["command"] == ["api-server"]
    assert [(p["target"], p["published"]) for p in api["ports"]] == [(8080, "8080")]
    assert "http://localhost:8080/api/v2/version" in api["healthcheck"]["test"]
    assert len(workers(config)) >= 2
    for worker in workers(config).values():
        assert worker["command"][:3] == ["celery", "worker", "--queues"]
        assert "socorg" in worker["command"][3].split(",")
        assert worker["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_every_airflow_process_gets_the_same_secrets_and_executor(config):
    services = airflow_services(config)
    assert len(services) >= 7
    for name, service in services.items():
        env = service["environment"]
        for setting, variable in SHARED_SETTINGS.items():
            assert env[setting] == SECRETS[variable], (name, setting)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:@redis:6379/0"
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "Asia/Shanghai"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
        assert (env["SOCORG_CELERY_QUEUE"], env["SOCORG_DATA"]) == ("socorg", "/opt/socorg/data")
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert Path(service["build"]["context"]).resolve() == PROJECT
        for dependency in ("postgres", "redis"):
            assert service["depends_on"][dependency]["condition"] == "service_healthy", name


def test_every_worker_mounts_the_same_data_volume(config):
    sources = set()
    for name, worker in workers(config).items():
        mounts = {m["target"]: m for m in worker["volumes"]}
        data = mounts["/opt/socorg/data"]
        assert data["type"] == "volume" and not data.get("read_only"), name
        sources.add(data["source"])
        assert mounts["/opt/socorg/site"]["read_only"] is True, name
    assert len(sources) == 1 and sources <= set(config["volumes"])


def test_the_init_service_migrates_creates_the_admin_and_the_warehouse_pool(config):
    init = config["services"]["airflow-init"]
    script = " ".join(init["command"])
    assert 'airflow pools set socorg_warehouse 1 "one writer of the socorg DuckDB warehouse"' in script
    env = init["environment"]
    assert (env["_AIRFLOW_DB_MIGRATE"], env["_AIRFLOW_WWW_USER_CREATE"]) == ("true", "true")
    assert env["_AIRFLOW_WWW_USER_PASSWORD"] == SECRETS["_AIRFLOW_WWW_USER_PASSWORD"]
    for name, service in airflow_services(config).items():
        if name != "airflow-init":
            assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_compose_commands_are_the_airflow_commands_of_the_compose_file():
    assert compose_commands(SECRETS) == EXPECTED_COMMANDS


def test_compose_commands_follow_the_queue_setting():
    commands = compose_commands({**SECRETS, "SOCORG_CELERY_QUEUE": "nightly"})
    assert (
        commands["airflow-worker"]
        == commands["airflow-worker-2"]
        == ["celery", "worker", "--queues", "nightly,default"]
    )
    env = compose_config({**SECRETS, "SOCORG_CELERY_QUEUE": "nightly"})["services"]["airflow-scheduler"][
        "environment"
    ]
    assert env["SOCORG_CELERY_QUEUE"] == "nightly"


def test_airflows_command_line_accepts_every_compose_command(tmp_path):
    """Each command parses with Airflow's own CLI parser (a misspelt option exits 2 there)."""
    script = (
        "import json, sys\n"
        "from airflow.cli.cli_parser import get_parser\n"
        "parser = get_parser()\n"
        "parsed = {name: parser.parse_args(args) for name, args in json.loads(sys.argv[1]).items()}\n"
        "found = {name: [a.func.__name__, getattr(a, 'queues', None)] for name, a in parsed.items()}\n"
        "print(json.dumps(found))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}
    done = run(sys.executable, "-c", script, json.dumps(compose_commands(SECRETS)), env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "airflow-apiserver": ["api_server", None],
        "airflow-scheduler": ["scheduler", None],
        "airflow-dag-processor": ["dag_processor", None],
        "airflow-triggerer": ["triggerer", None],
        "airflow-worker": ["worker", "socorg,default"],
        "airflow-worker-2": ["worker", "socorg,default"],
    }


def test_the_env_example_names_every_variable_and_resolves_once_filled(tmp_path):
    listed = run_compose(SECRETS, "config", "--variables", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    variables = json.loads(listed.stdout)
    example = (DEPLOY / ".env.example").read_text()
    names = {
        line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")
    }
    assert set(variables) <= names, sorted(set(variables) - names)
    required = {name for name, v in variables.items() if v["Required"]}
    assert required == set(SECRETS)
    filled = tmp_path / ".env"
    lines = [f"{line}{SECRETS[line[:-1]]}" if line[:-1] in SECRETS else line for line in example.splitlines()]
    filled.write_text("\n".join(lines) + "\n")
    done = run_compose({}, "config", "--format", "json", env_file=filled)
    assert done.returncode == 0, done.stderr
    worker_env = json.loads(done.stdout)["services"]["airflow-worker"]["environment"]
    assert worker_env["AIRFLOW__CORE__FERNET_KEY"] == SECRETS["AIRFLOW_FERNET_KEY"]


def test_the_pod_template_runs_base_with_the_shared_data_claim():
    template = yaml.safe_load((DEPLOY / "pod_template.yaml").read_text())
    assert (template["apiVersion"], template["kind"]) == ("v1", "Pod")
    (container,) = template["spec"]["containers"]
    assert container["name"] == "base"
    assert "socorg-airflow" in container["image"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    data = volumes[mounts["/opt/socorg/data"]["name"]]
    assert data["persistentVolumeClaim"]["claimName"] == "socorg-data"
    assert not mounts["/opt/socorg/data"].get("readOnly")
    assert mounts["/opt/socorg/site"]["readOnly"] is True
    site = volumes[mounts["/opt/socorg/site"]["name"]]
    assert "persistentVolumeClaim" in site or "configMap" in site
    env = {e["name"]: e for e in container["env"]}
    assert env["SOCORG_DATA"]["value"] == "/opt/socorg/data"
    assert env["SOCORG_SITE"]["value"] == "/opt/socorg/site"
    for setting in SHARED_SETTINGS:
        assert env[setting]["valueFrom"]["secretKeyRef"]["name"] == "socorg-airflow", setting
    assert template["spec"]["securityContext"]["runAsUser"] == 50000
    assert "ReadWriteMany" in (DEPLOY / "pod_template.yaml").read_text()
