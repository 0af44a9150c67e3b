"""The dbt project as dbt sees it: unit tests must be found (dbt ignores them silently when misplaced)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[3] / "dbt_project"


def test_dbt_finds_every_unit_test(tmp_path):
    env = {**os.environ, "SOCORG_DATA": str(tmp_path)}
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), "ls", "--resource-type", "unit_test", "--output", "name", "--profiles-dir", "."]
    command += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    listed = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stdout[-2000:]
    names = set(listed.stdout.split())
    assert {
        "each_kind_of_change_is_told_apart",
        "versions_start_on_change_and_end_when_gone",
        "expired_qualifications_do_not_count_and_names_find_codes",
        "members_without_code_take_the_code_known_for_their_name",
        "one_row_per_enterprise_with_a_flag_per_list",
        "joins_leaves_and_role_changes_only_where_the_list_came_both_nights",
        "tonight_and_this_month_count_registrations_and_deregistrations",
        "growth_compares_with_the_night_before_and_the_last_night_30_days_back",
    } <= names


# A model by year shares its columns with the model it takes each year of, in that model's .yml (YAML
# anchors reach within one file only): the descriptions of a figure are written once.
BY_YEAR = {"city_by_year": "city_summary", "cluster_by_year": "clusters"}


def test_every_model_has_its_own_yml_describing_it():
    for sql in sorted((PROJECT / "models").rglob("*.sql")):
        yml = sql.with_name(f"{BY_YEAR.get(sql.stem, sql.stem)}.yml")
        assert yml.exists(), f"{sql.relative_to(PROJECT)} has no {yml.name} beside it"
        models = [m["name"] for m in yaml.safe_load(yml.read_text(encoding="utf-8")).get("models", [])]
        expected = [sql.stem] if sql.stem not in BY_YEAR else [BY_YEAR[sql.stem], sql.stem]
        if sql.stem in BY_YEAR.values():
            expected = [sql.stem, *(y for y, m in BY_YEAR.items() if m == sql.stem)]
        assert models == expected, f"{yml.name} describes {models}, not {expected}"


def test_a_model_by_year_has_the_columns_of_its_model_and_the_year():
    for by_year, model in BY_YEAR.items():
        spec = yaml.safe_load((next(PROJECT.glob(f"models/**/{model}.yml"))).read_text(encoding="utf-8"))
        columns = {m["name"]: [c["name"] for c in m["columns"]] for m in spec["models"]}
        descriptions = {
            m["name"]: {c["name"]: c["description"] for c in m["columns"]} for m in spec["models"]
        }
        keys = ["city_code", *(["cluster_code"] if model == "clusters" else [])]
        figures = [c for c in columns[model] if c not in (*keys, "snapshot_date")]
        assert columns[by_year] == [*keys, "year", "snapshot_date", *figures, "release_date"]
        for column in figures:
            assert descriptions[by_year][column] == descriptions[model][column], column


def test_only_staging_reads_sources():
    for sql in sorted((PROJECT / "models").rglob("*.sql")):
        if "staging" not in sql.relative_to(PROJECT / "models").parts:
            assert "source(" not in sql.read_text(encoding="utf-8"), sql.name


def test_a_build_without_the_night_fails_with_a_clear_message(tmp_path):
    env = {**os.environ, "SOCORG_DATA": str(tmp_path)}
    env.pop("SOCORG_SNAPSHOT_DATE", None)
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), "compile", "--select", "registry_stats", "--profiles-dir", "."]
    command += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "SOCORG_SNAPSHOT_DATE is not set: run dbt with SOCORG_SNAPSHOT_DATE=YYYY-MM-DD" in done.stdout


def test_gx_guards_the_enumerated_raw_columns_and_dbt_does_not_check_them_again():
    """Each check in one place: GX's suites check raw batches' enumerated values (taken from the typing
    rules), so no dbt model repeats an accepted_values test of those values."""
    from ingest.rules.typing_rules import ENUMS, canonical_values
    from ingest.validate import suites

    enum_sets = {frozenset(canonical_values(kind)) for kind in ENUMS}
    assert {
        frozenset(suites.ORG_TYPES),
        frozenset(suites.QUALIFICATIONS),
        frozenset(suites.ROLES),
    } <= enum_sets
    for yml in sorted((PROJECT / "models").rglob("*.yml")):
        text = yml.read_text(encoding="utf-8")
        for values in yaml_accepted_values(yaml.safe_load(text)):
            assert frozenset(map(str, values)) not in enum_sets, f"{yml.name} checks {values} again"


def yaml_accepted_values(node):
    """Every `values` list of an accepted_values test anywhere in a parsed yml."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "accepted_values":
                yield (value.get("arguments") or value)["values"]
            else:
                yield from yaml_accepted_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from yaml_accepted_values(item)


def test_the_committed_graph_the_dag_draws_is_the_project_as_it_is(tmp_path):
    from ingest.transform.graph import load_graph, parsed_graph

    now = parsed_graph(tmp_path)
    committed = load_graph()
    assert committed == now, (
        "dbt_project/graph.json is stale: the DAG would draw models the project no longer has (or miss "
        "new ones); run `make dbt-graph` and commit the file"
    )
    assert "organizations" in now["nodes"] and now["nodes"]["clusters"]["parents"]


def test_dbt_sends_no_usage_events(tmp_path, monkeypatch):
    """dbt_project.yml turns dbt's anonymous usage tracking off: a run of dbt on the project (here a
    parse) leaves dbt's tracker not tracking, with no cookie to identify the user by."""
    import dbt.tracking

    from ingest.transform.graph import parsed_graph

    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    monkeypatch.delenv("DBT_SEND_ANONYMOUS_USAGE_STATS", raising=False)
    parsed_graph(tmp_path)
    user = dbt.tracking.active_user
    assert user is not None and user.do_not_track and user.cookie_dir is None


def test_a_contracted_table_says_not_null_with_a_constraint_not_a_test():
    """DuckDB enforces a contracted table's not_null constraints as it builds it: a not_null data test on
    such a table would check again, one more dbt node a night. Views and seeds keep the test."""
    from ingest.transform.graph import load_graph

    nodes = load_graph()["nodes"]
    contracted = {n for n, node in nodes.items() if node["schema"] == "marts"}
    assert {"organizations", "memberships", "clusters", "city_summary"} <= contracted
    tested = [(n, t["column"]) for n in contracted for t in nodes[n]["tests"] if t["name"] == "not_null"]
    assert tested == []
    assert ["org_id", "not_null"] in nodes["organizations"]["constraints"]
    assert ["association_credit_code", "not_null"] in nodes["memberships"]["constraints"]
    assert all(node["materialized"] == "table" for node in (nodes[n] for n in contracted))
    assert any(t["name"] == "not_null" for t in nodes["stg_registry__organizations"]["tests"])
