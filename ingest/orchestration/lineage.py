"""What each task of the night read and wrote, as OpenLineage datasets — export files, raw partitions,
warehouse tables, published Parquet — with schemas, row counts and quality results (GX and dbt tests).

Asked for by the OpenLineage provider only when lineage is configured (`AIRFLOW__OPENLINEAGE__TRANSPORT`,
`OPENLINEAGE_URL`, …): with nothing configured none of this runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
PRODUCER = "https://github.com/socorg/socorg"


def _night(task_instance):
    from ingest.orchestration.stages import night_from_context

    return night_from_context(task_instance.get_template_context())


def file_dataset(
    path: str | Path, kind: str = "input", facets: dict | None = None, extra: dict | None = None
):
    """A local file or folder: namespace `file`, its absolute path as the name."""
    return _dataset("file", str(Path(path).resolve()), kind, facets, extra)


def url_dataset(url: str, kind: str = "input"):
    """A file named by an fsspec URL (`s3://bucket/key`, `sftp://host/path`, a local path), without the
    user, password or query that may carry credentials."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        return file_dataset(parts.path or url, kind)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.scheme in ("s3", "s3a", "gs", "gcs", "az", "abfs"):
        return _dataset(f"{parts.scheme}://{host}", parts.path.lstrip("/"), kind)
    return _dataset(f"{parts.scheme}://{host}", parts.path, kind)


def table_dataset(warehouse: Path, schema: str, table: str, kind: str = "input", facets=None, extra=None):
    """A table or view of the warehouse DuckDB file."""
    return _dataset(f"duckdb://{warehouse.resolve()}", f"warehouse.{schema}.{table}", kind, facets, extra)


def _dataset(namespace: str, name: str, kind: str, facets: dict | None = None, extra: dict | None = None):
    from openlineage.client.event_v2 import InputDataset, OutputDataset

    if kind == "input":
        return InputDataset(namespace=namespace, name=name, facets=facets or {}, inputFacets=extra or {})
    return OutputDataset(namespace=namespace, name=name, facets=facets or {}, outputFacets=extra or {})


def schema_facet(columns: list[tuple[str, str | None]]) -> dict:
    from openlineage.client.facet_v2 import schema_dataset

    fields = [schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in columns]
    return {"schema": schema_dataset.SchemaDatasetFacet(fields=fields)}


def rows_facet(rows: int | None, size: int | None = None) -> dict:
    from openlineage.client.facet_v2 import output_statistics_output_dataset as stats

    if rows is None:
        return {}
    return {"outputStatistics": stats.OutputStatisticsOutputDatasetFacet(rowCount=int(rows), size=size)}


def assertions_facet(assertions: list[tuple[str, bool, str | None]]) -> dict:
    """`dataQualityAssertions`: (check, passed, column) each."""
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dq

    if not assertions:
        return {}
    checks = [dq.Assertion(assertion=a, success=bool(ok), column=c) for a, ok, c in assertions]
    return {"dataQualityAssertions": dq.DataQualityAssertionsDatasetFacet(assertions=checks)}


def _landed(night) -> list[dict]:
    from ingest.land.landing import landing_manifest

    path = landing_manifest(night.data, night.export_date)
    files = json.loads(path.read_text(encoding="utf-8"))["files"] if path.exists() else []
    return [f for f in files if not f.get("superseded")]


def _origin_url(night, origin: str) -> str:
    """The URL of a landed file where it came from (fsspec paths of object stores carry no protocol)."""
    scheme = urlsplit(night.exports).scheme
    if scheme in ("", "file") or "://" in origin:
        return origin
    return f"{scheme}://{origin.lstrip('/')}"


def _raw_partition(night, source: str, kind: str, extra: dict | None = None):
    """A source's raw partition of the night, with its Parquet schema and rows."""
    import pyarrow.parquet as pq

    from ingest.common.paths import partition

    folder = partition(night.data, source, night.export_date)
    files = sorted(folder.glob("*.parquet")) if folder.exists() else []
    if not files:
        return None
    schema = pq.read_schema(files[0])
    facets = schema_facet([(f.name, str(f.type)) for f in schema])
    rows = sum(pq.read_metadata(f).num_rows for f in files)
    if kind == "output":
        extra = {**rows_facet(rows), **(extra or {})}
    return file_dataset(folder, kind, facets, extra)


def _gx_assertions(night) -> dict[str, list[tuple[str, bool, str | None]]]:
    """The night's Great Expectations results by source."""
    path = night.data / "runs" / night.export_date.isoformat() / "validation.json"
    if not path.exists():
        return {}
    found: dict[str, list] = {}
    for finding in json.loads(path.read_text(encoding="utf-8")).get("findings", []):
        check = (finding["expectation"], finding["success"], finding.get("column"))
        found.setdefault(finding["source"], []).append(check)
    return found


def _lineage(inputs, outputs):
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(inputs=[d for d in inputs if d], outputs=[d for d in outputs if d])


def stage_lineage(stage: str, task_instance):
    """The datasets of a stage task (its task id names the stage)."""
    night = _night(task_instance)
    builders = {
        "land": _land,
        "parse": _parse,
        "validate": _validate,
        "transform": _transform,
        "publish": _publish,
        "publish_remote": _publish_remote,
        "publish_postgres": _publish_postgres,
    }
    inputs, outputs = builders[stage](night, task_instance) if stage in builders else ([], [])
    return _lineage(inputs, outputs)


def _land(night, _ti):
    files = _landed(night)
    inputs = [url_dataset(_origin_url(night, f["origin"])) for f in files]
    return inputs, [file_dataset(f["path"], "output") for f in files]


def _sources() -> tuple[str, ...]:
    from ingest.rules.layouts import SOURCES

    return SOURCES


def _parse(night, _ti):
    files = _landed(night)
    return [file_dataset(f["path"]) for f in files], [_raw_partition(night, s, "output") for s in _sources()]


def _validate(night, _ti):
    checks = _gx_assertions(night)
    return [_raw_partition(night, s, "input", assertions_facet(checks.get(s, []))) for s in _sources()], []


def _transform(night, task_instance):
    from ingest.transform.graph import load_graph

    graph = load_graph()
    inputs = [_raw_partition(night, s, "input") for s in _sources()]
    rows = table_rows(night.data)
    outputs = [
        table_dataset(
            night.data / "warehouse.duckdb", n["schema"], name, "output", None, rows_facet(rows.get(name))
        )
        for name, n in graph["nodes"].items()
        if n["schema"] == "marts"
    ]
    from ingest.orchestration.airflow_home import rendering

    if rendering() == "one":  # no model tasks: each model's job and events come from here
        emit_model_events(night, task_instance, graph, rows)
    return inputs, outputs


def _release_files(night) -> list[dict]:
    """The night's release's Parquet files, as its index lists them ([] before it is published)."""
    from ingest.common.releases import release_dir

    index_path = release_dir(night.data / "publish", night.export_date) / "index.json"
    if not index_path.exists():
        return []
    return json.loads(index_path.read_text(encoding="utf-8"))["files"]


def _with_schema(dataset, entry: dict):
    """A published file's dataset with the schema and rows its index gives."""
    dataset.facets.update(schema_facet([(c["name"], c["type"]) for c in entry["schema"]]))
    dataset.outputFacets.update(rows_facet(entry["rows"], entry["bytes"]))
    return dataset


def _publish(night, _ti):
    files = _release_files(night)
    warehouse = night.data / "warehouse.duckdb"
    inputs = [table_dataset(warehouse, "marts", f["dataset"]) for f in files]
    return inputs, [
        _with_schema(file_dataset(night.data / "publish" / f["path"], "output"), f) for f in files
    ]


def _publish_remote(night, _ti):
    """The release's files read here and written to object storage (when this night uploaded them)."""
    from ingest.publish.remote import ledger_file, publish_url

    ledger = ledger_file(night.data, night.export_date.isoformat())
    if not ledger.exists() or not publish_url(night.publish_url):
        return [], []
    url = json.loads(ledger.read_text(encoding="utf-8"))["url"]
    files = _release_files(night)
    inputs = [file_dataset(night.data / "publish" / f["path"]) for f in files]
    return inputs, [_with_schema(url_dataset(f"{url}/{f['path']}", "output"), f) for f in files]


def _publish_postgres(night, _ti):
    """The tables the release was loaded into (recorded by the task: no connection is looked up here)."""
    path = night.data / "runs" / night.export_date.isoformat() / "postgres.json"
    if not path.exists():
        return [], []
    loaded = json.loads(path.read_text(encoding="utf-8"))
    namespace = f"postgres://{loaded['host']}:{loaded['port']}"
    outputs = [
        _dataset(
            namespace, f"{loaded['database']}.{loaded['schema']}.{table}", "output", None, rows_facet(rows)
        )
        for table, rows in loaded["tables"].items()
    ]
    return [], outputs


def table_rows(data: Path, names: set[str] | None = None) -> dict[str, int]:
    """Rows of each table of the warehouse (views left out), or of those `names`, by name; {} when it
    cannot be read."""
    import duckdb

    warehouse = str(data / "warehouse.duckdb")
    try:
        con = duckdb.connect(warehouse, read_only=True)
    except duckdb.Error:  # dbt of this very process still has it open: share its instance
        try:
            con = duckdb.connect(warehouse)
        except duckdb.Error:
            return {}
    with con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'warehouse'"
        ).fetchall()
        counted = [(s, t) for s, t in tables if names is None or t in names]
        return {t: con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in counted}


def model_datasets(night, graph: dict, name: str, rows: dict[str, int], record: dict | None):
    """A model's or seed's inputs (its parents, the raw sources it reads, itself with its tests' and
    enforced constraints' results) and output (itself, with its contract's columns and rows)."""
    from ingest.transform.results import constraint_results

    node = graph["nodes"][name]
    warehouse = night.data / "warehouse.duckdb"
    inputs = [table_dataset(warehouse, graph["nodes"][p]["schema"], p) for p in node["parents"]]
    for source in node["sources"]:
        inputs.append(_raw_partition(night, source.split(".", 1)[1], "input"))
    results = (record or {}).get("nodes", {})
    checks = [
        (t["name"], results[t["id"]]["status"] in ("pass", "warn"), t["column"])
        for t in node["tests"]
        if t["id"] in results
    ] + constraint_results(record or {"nodes": {}}, node)
    if checks:
        inputs.append(table_dataset(warehouse, node["schema"], name, "input", None, assertions_facet(checks)))
    columns = [(c, t) for c, t in node["columns"]]
    output = table_dataset(
        warehouse,
        node["schema"],
        name,
        "output",
        schema_facet(columns) if columns else None,
        rows_facet(rows.get(name)),
    )
    return inputs, [output]


def model_lineage(name: str, task_instance):
    """The datasets of a dbt model's task."""
    from ingest.transform.graph import load_graph
    from ingest.transform.results import read_record

    night = _night(task_instance)
    rows = table_rows(night.data, {name})  # a task per model: each counts its own table only
    inputs, outputs = model_datasets(
        night, load_graph(), name, rows, read_record(night.data, night.export_date)
    )
    return _lineage(inputs, outputs)


def emit_model_events(night, task_instance, graph: dict, rows: dict[str, int]) -> None:
    """With dbt rendered as one task: a job per model and seed (named as its task would be,
    `<dag>.dbt.<model>`), a START and a COMPLETE or FAIL event each, children of the transform task's
    run, from the night's dbt results."""
    from airflow.providers.openlineage import conf
    from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import parent_run

    from ingest.transform.results import outcome, read_record

    record = read_record(night.data, night.export_date)
    if record is None:
        return
    namespace = conf.namespace()
    context = task_instance.get_template_context()
    dag_run = context["dag_run"]
    logical = dag_run.logical_date or dag_run.run_after
    dag_id, try_number = task_instance.dag_id, task_instance.try_number
    parent_id = OpenLineageAdapter.build_task_instance_run_id(
        dag_id, task_instance.task_id, try_number, logical, -1
    )
    root_id = OpenLineageAdapter.build_dag_run_id(dag_id, logical, getattr(dag_run, "clear_number", 0))
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=str(parent_id)),
        job=parent_run.Job(namespace=namespace, name=f"{dag_id}.{task_instance.task_id}"),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=str(root_id)),
            job=parent_run.RootJob(namespace=namespace, name=dag_id),
        ),
    )
    client = OpenLineageAdapter().get_or_create_openlineage_client()
    now = dt.datetime.now(dt.UTC).isoformat()
    for name, node in graph["nodes"].items():
        if node["id"] not in record["nodes"]:
            continue
        passed, _message = outcome(record, node)
        run_id = str(
            OpenLineageAdapter.build_task_instance_run_id(dag_id, f"dbt.{name}", try_number, logical, -1)
        )
        run = Run(runId=run_id, facets={"parent": parent})
        job = Job(namespace=namespace, name=f"{dag_id}.dbt.{name}")
        inputs, outputs = model_datasets(night, graph, name, rows, record)
        for state in (RunState.START, RunState.COMPLETE if passed else RunState.FAIL):
            event = RunEvent(eventType=state, eventTime=now, run=run, job=job, producer=PRODUCER,
                             inputs=[d for d in inputs if d], outputs=[d for d in outputs if d])  # fmt: skip
            try:
                client.emit(event)
            except Exception as exc:  # noqa: BLE001 (lineage must never stop a night)
                log.warning("OpenLineage: could not emit the event of %s: %s", name, exc)
