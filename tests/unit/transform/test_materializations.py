"""socorg's table and view materializations replace a relation in one transaction, whatever it was."""

from __future__ import annotations

import re
import shutil
import textwrap

import duckdb
import pytest

from ingest.common.paths import DBT_DIR


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A one-model dbt project using socorg's materializations, and a function building its model."""
    from dbt.cli.main import dbtRunner

    root = tmp_path_factory.mktemp("materializations")
    (root / "macros").mkdir()
    (root / "models").mkdir()
    for macros in ("materializations.sql", "persist_docs.sql"):
        shutil.copy(DBT_DIR / "macros" / macros, root / "macros")
    (root / "dbt_project.yml").write_text(
        "name: m\nversion: '1.0'\nprofile: m\n"
        "models:\n  m:\n    +persist_docs: {relation: true, columns: true}\n"
    )
    (root / "profiles.yml").write_text(
        f"m:\n  target: t\n  outputs:\n    t: {{type: duckdb, path: '{root / 'w.duckdb'}', threads: 1}}\n"
    )
    (root / "models" / "m.yml").write_text(
        textwrap.dedent(
            """
            models:
              - name: m
                description: the model
                columns:
                  - {name: x, description: the figure, data_type: integer, constraints: [{type: not_null}]}
              - name: n
                description: "the other model: it's not contracted"
                columns:
                  - {name: y, description: "the other figure, $1 a piece"}
                  - {name: z, description: documented but not built}
            """
        )
    )

    def build(materialized: str, select: str, contract: bool = False) -> bool:
        config = f"materialized='{materialized}', contract={{'enforced': {contract}}}"
        (root / "models" / "m.sql").write_text(f"{{{{ config({config}) }}}}\n{select}\n")
        where = ["--project-dir", str(root), "--profiles-dir", str(root), "--target-path", str(root / "t")]
        build.result = dbtRunner().invoke(["run", *where, "--log-path", str(root / "logs")])
        return build.result.success

    (root / "models" / "n.sql").write_text("{{ config(materialized='view') }}\nselect 5 as y\n")

    def relation() -> tuple[str, list]:
        with duckdb.connect(str(root / "w.duckdb")) as con:
            kinds = "select table_type from information_schema.tables where table_name = 'm'"
            [(kind,)] = con.execute(kinds).fetchall()
            return kind, con.execute("select x from m").fetchall()

    return build, relation, root


def test_a_view_becomes_a_table_and_a_failing_build_leaves_the_last_relation(project):
    build, relation, root = project
    assert build("view", "select 1 as x")
    assert relation() == ("VIEW", [(1,)])
    assert build("table", "select 2 as x")
    assert relation() == ("BASE TABLE", [(2,)])
    # One statement replaced the view: no relation built under another name and renamed.
    ran = (root / "t" / "run" / "m" / "models" / "m.sql").read_text()
    assert re.search(r"drop view if exists .*m\";\s+create\s+table", ran) and "__dbt" not in ran
    # The new relation fails while it is created: the drop of the old one is rolled back with it.
    assert not build("table", "select error('the model fails') as x")
    assert relation() == ("BASE TABLE", [(2,)])
    assert build("view", "select 3 as x")
    assert relation() == ("VIEW", [(3,)])
    assert not build("view", "select x from no_such_table")
    assert relation() == ("VIEW", [(3,)])


def test_a_contracted_table_keeps_its_contract_and_its_documented_columns(project):
    build, relation, root = project
    (root / "logs" / "dbt.log").unlink(missing_ok=True)
    assert build("table", "select 4 as x", contract=True)
    # Its docs are persisted without looking its columns up (the contract names them); those of the
    # view beside it, which has none, with one lookup (dbt's own persist_docs makes two a model).
    log = (root / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert log.count("from (describe") == 1
    assert relation() == ("BASE TABLE", [(4,)])
    with duckdb.connect(str(root / "w.duckdb")) as con:
        assert con.execute("select comment from duckdb_columns() where table_name = 'm'").fetchall() == [
            ("the figure",)
        ]
        assert con.execute("select comment from duckdb_tables() where table_name = 'm'").fetchall() == [
            ("the model",)
        ]
    # The contract is still checked: a column of another type is refused, and the table kept.
    assert not build("table", "select 'five' as x", contract=True)
    assert relation() == ("BASE TABLE", [(4,)])


def test_docs_persist_on_a_model_without_a_contract_leaving_out_columns_it_lacks(project):
    """socorg's persist_docs (one statement, columns looked up once unless a contract names them) keeps
    what dbt's does: the relation's comment, and its documented columns' that exist."""
    build, _, root = project
    (root / "logs" / "dbt.log").unlink(missing_ok=True)
    assert build("table", "select 6 as x")
    with duckdb.connect(str(root / "w.duckdb")) as con:
        assert con.execute("select comment from duckdb_views() where view_name = 'n'").fetchall() == [
            ("the other model: it's not contracted",)
        ]
        assert con.execute(
            "select column_name, comment from duckdb_columns() where table_name = 'n'"
        ).fetchall() == [("y", "the other figure, $1 a piece")]
    log = (root / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "specified in the schema but are not present in the database: z" in log
    assert log.count("from (describe") == 2  # once for each model; dbt's own persist_docs looks twice


def test_a_null_in_a_not_null_column_of_a_contracted_table_fails_its_model_naming_the_column(project):
    """The marts' not-null columns are constraints DuckDB enforces as the table is built, not data
    tests: a null fails the model, its task says which constraint of which column, and the last
    night's table stays."""
    from ingest.transform.results import constraint_results, data_test_lines, node_results, outcome

    build, relation, _ = project
    assert build("table", "select 7 as x", contract=True)
    assert not build("table", "select 8 as x union all select null", contract=True)
    assert relation() == ("BASE TABLE", [(7,)])
    night = {"nodes": node_results(build.result)}
    node = {"id": "model.m.m", "type": "model", "tests": [], "constraints": [["x", "not_null"]]}
    assert "NOT NULL constraint failed" in night["nodes"][node["id"]]["message"]
    assert constraint_results(night, node) == [("not_null", False, "x")]
    assert data_test_lines(night, node) == [
        "constraint not_null(x): failed (enforced as the table was built)"
    ]
    passed, message = outcome(night, node)
    assert not passed and message.startswith("model failed:") and ".x" in message
    # Without a contract nothing is enforced: the null is built (socorg's marts are all contracted).
    assert build("table", "select null::integer as x")
    assert relation() == ("BASE TABLE", [(None,)])
