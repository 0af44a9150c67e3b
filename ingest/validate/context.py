"""The GX file context in the data folder, and each source's suite, validation definition and checkpoint."""

from __future__ import annotations

import copy
import json
import logging
import os
from pathlib import Path

from ingest.common.settings import nights_setting
from ingest.validate.results import ROW_ID, ROW_NAME
from ingest.validate.suites import SUITES

DATASOURCE = "socorg_raw"
INDEX_NIGHTS = "SOCORG_DATA_DOCS_NIGHTS"
INDEX_NIGHTS_DEFAULT = 14
EARLIER_RESULTS = "earlier_validations"  # results and pages older than the index lists, out of GX's sight


def context_dir(data: Path) -> Path:
    """`<data>/runs/gx/`: GX's stores live with the runs, not in the checkout (suites are Python)."""
    return data / "runs" / "gx"


def _config() -> dict:
    """The parts of great_expectations.yml socorg sets; GX adds its datasources beside them."""
    folders = {
        "expectations_store": ("ExpectationsStore", "expectations/"),
        "validation_results_store": ("ValidationResultsStore", "validations/"),
        "checkpoint_store": ("CheckpointStore", "checkpoints/"),
        "validation_definition_store": ("ValidationDefinitionStore", "validation_definitions/"),
    }
    stores = {
        name: {
            "class_name": kind,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": base},
        }
        for name, (kind, base) in folders.items()
    }
    stores["checkpoint_store"]["store_backend"]["suppress_store_backend_id"] = True
    # The data folder comes in through GX's substitution of ${SOCORG_DATA}, which is done once: a path
    # holding a `$` of its own stays as it is (written into the file, GX would substitute it too).
    docs = {"class_name": "TupleFilesystemStoreBackend", "base_directory": "${SOCORG_DATA}/docs/gx/"}
    return {
        "config_version": 4.0,
        "stores": stores,
        "expectations_store_name": "expectations_store",
        "validation_results_store_name": "validation_results_store",
        "checkpoint_store_name": "checkpoint_store",
        "data_docs_sites": {
            "local_site": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": True,
                "store_backend": docs,
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        "analytics_enabled": False,  # a nightly pipeline sends nothing anywhere
        "progress_bars": {"globally": False, "metric_calculations": False},
    }


def open_context(data: Path):
    """GX's file context in `<data>/runs/gx/`, its configuration written from _config() when it differs."""
    import great_expectations as gx
    import yaml

    os.environ["SOCORG_DATA"] = str(data)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    config_file = context_dir(data) / "great_expectations.yml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    current = yaml.safe_load(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}
    wanted = {**(current or {}), **_config()}
    if wanted != current:
        config_file.write_text(yaml.safe_dump(wanted, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return gx.get_context(mode="file", project_root_dir=str(data / "runs"))


def index_nights_setting() -> int:
    """How many nights of validation results the Data Docs index lists (`SOCORG_DATA_DOCS_NIGHTS`)."""
    return nights_setting(INDEX_NIGHTS, INDEX_NIGHTS_DEFAULT, 1, "tonight's results")


def build_docs(context, results: list, data: Path) -> None:
    """Tonight's Data Docs pages (`results`: their identifiers), and an index of the newest results:
    about the last SOCORG_DATA_DOCS_NIGHTS nights', as many as tonight's times that. GX rebuilds the
    index by reading every result it lists, so an index of every night ever stored would cost each
    night more than the one before (GX's `validation_results_limit`). Older nights' results and pages
    are set aside (keep_newest_results), and their outcomes are in runs/<date>/validation.json."""
    limit = max(1, len(results)) * index_nights_setting()
    keep_newest_results(data, limit)
    build_site(context, [*results, *_suites_to_render(data)], limit)


def build_site(context, resources: list, limit: int) -> None:
    """GX's Data Docs build of `resources` (their pages) and of an index listing the `limit` newest
    results of GX's store."""
    # As configured (${SOCORG_DATA} not substituted yet: GX substitutes when it builds, and a path
    # with a `$` of its own must not be substituted twice), set back in memory: the file keeps no limit.
    sites = copy.deepcopy(context.variables.config.data_docs_sites)
    sites["local_site"]["site_index_builder"]["validation_results_limit"] = limit
    context.variables.data_docs_sites = sites
    context.build_data_docs(resource_identifiers=resources)


def _suites_to_render(data: Path) -> list:
    """The suites whose page is missing or older than the suite: the index and every result's page
    link to their suite's page, which GX builds only when asked for it by name."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    pages = data / "docs" / "gx" / "expectations"
    return [
        ExpectationSuiteIdentifier(name=suite.stem)
        for suite in sorted((context_dir(data) / "expectations").glob("*.json"))
        if not (page := pages / f"{suite.stem}.html").exists() or page.stat().st_mtime < suite.stat().st_mtime
    ]


def _results_in(folder: Path) -> list[tuple[str, Path]]:
    """The validation results under a store folder (<suite>/<run name>/<run time>/<batch>.json, relative
    to it), each with its run time as GX writes it (20231031T021500.000000Z: ordered as text)."""
    if not folder.is_dir():
        return []
    return [(path.parent.name, path.relative_to(folder)) for path in folder.glob("*/*/*/*.json")]


def keep_newest_results(data: Path, keep: int) -> None:
    """GX's validation store and the Data Docs site hold the `keep` newest results and their pages (by
    when they were validated, the order of GX's index); older ones are moved as they are to
    `earlier_validations/` beside them (in runs/gx/ and docs/gx/: a page at the same depth, its links
    intact), and moved back when SOCORG_DATA_DOCS_NIGHTS grows. GX lists its whole store and site
    each time it builds the docs, so keeping every night ever validated there made every night slower
    than the one before (a city night's docs: 2.1–2.5 s after a year, 0.9–1.1 s with the older ones
    set aside; bench/gx_docs.py)."""
    gx_dir, site = context_dir(data), data / "docs" / "gx"
    results = _results_in(gx_dir / "validations")
    if len(results) < keep:  # room in the store: the newest results set aside come back
        results += _results_in(gx_dir / EARLIER_RESULTS)
    results.sort(key=lambda r: (r[0], str(r[1])), reverse=True)
    for rank, (_, path) in enumerate(results):
        kept = rank < keep
        here, there = (EARLIER_RESULTS, "validations") if kept else ("validations", EARLIER_RESULTS)
        # Into the store the result goes first, out of it last: GX deletes a page of the site whose
        # result is not in its store. Each file is looked for on its own, so a pair a stopped run left
        # apart is put together again.
        files = [(gx_dir, path), (site, path.with_suffix(".html"))]
        found = [(root, file) for root, file in files if (root / here / file).exists()]
        for root, file in found if kept else reversed(found):
            _move(root / here / file, root / there / file)


def _move(source: Path, target: Path) -> None:
    """A file moved to the same place under another folder; the folders it leaves empty removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    for folder in (source.parent, source.parent.parent):
        try:
            folder.rmdir()
        except OSError:  # not empty
            break


def checkpoint_for(context, source: str):
    """The source's suite, batch definition, validation definition and checkpoint, kept current.

    Stored objects are rewritten only when they changed.
    """
    import great_expectations as gx

    suite_name = SUITES[source].__name__
    suite = _stored(context.suites, gx.ExpectationSuite(name=suite_name, expectations=SUITES[source]()))
    datasource = next((d for d in context.data_sources.all().values() if d.name == DATASOURCE), None)
    datasource = datasource or context.data_sources.add_pandas(name=DATASOURCE)
    asset = next((a for a in datasource.assets if a.name == source), None)
    asset = asset or datasource.add_dataframe_asset(name=source)
    batch = next((b for b in asset.batch_definitions if b.name == "night"), None)
    batch = batch or asset.add_batch_definition_whole_dataframe("night")
    validation = _stored(
        context.validation_definitions,
        gx.ValidationDefinition(name=f"{suite_name}__night", data=batch, suite=suite),
    )
    return _stored(
        context.checkpoints,
        gx.Checkpoint(
            name=f"{suite_name}__checkpoint",
            validation_definitions=[validation],
            actions=[],  # Data Docs are built once per night, after every chunk of every source
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": 5,
                "unexpected_index_column_names": [*ROW_ID, *ROW_NAME.get(source, ())],
            },
        ),
    )


def _without_ids(value):
    """A GX object's JSON form without the ids GX assigns when it stores one."""
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _stored(store, wanted):
    """The stored suite, validation definition or checkpoint of that name if unchanged, else `wanted`
    stored (GX's ids aside)."""
    try:
        stored = store.get(wanted.name)
    except Exception:  # GX raises its own not-found error, by version
        return store.add(wanted)
    if _without_ids(_json_form(stored)) == _without_ids(_json_form(wanted)):
        return stored
    return store.add_or_update(wanted)


def _json_form(obj) -> dict:
    return obj.to_json_dict() if hasattr(obj, "to_json_dict") else json.loads(obj.json())
