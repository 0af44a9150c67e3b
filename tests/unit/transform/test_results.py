"""How a model's task reads the night's dbt results: its own status and each of its data tests."""

from __future__ import annotations

from ingest.transform.results import constraint_results, data_test_lines, outcome

NODE = {
    "id": "model.socorg.organizations",
    "type": "model",
    "tests": [
        {"id": "test.socorg.unique_org", "name": "unique", "column": "org_id"},
        {"id": "test.socorg.registered", "name": "designated_associations_are_registered", "column": None},
    ],
    "constraints": [["org_id", "not_null"], ["org_name", "not_null"]],
}


def record(**tests) -> dict:
    nodes = {
        "model.socorg.organizations": {
            "status": "success",
            "message": "OK",
            "seconds": 0.12,
            "failures": None,
        }
    }
    for uid, (status, failures) in tests.items():
        nodes[f"test.socorg.{uid}"] = {
            "status": status,
            "message": status,
            "seconds": 0.01,
            "failures": failures,
        }
    return {"nodes": nodes}


def test_a_model_whose_tests_pass_reports_its_time_and_tests():
    night = record(unique_org=("pass", 0), registered=("pass", 0))
    assert outcome(night, NODE) == (True, "success in 0.12 s, 2 tests passed, 2 constraints held")
    assert data_test_lines(night, NODE) == [
        "test unique(org_id): pass (0.01 s)",
        "test designated_associations_are_registered: pass (0.01 s)",
        "constraint not_null(org_id): held (enforced as the table was built)",
        "constraint not_null(org_name): held (enforced as the table was built)",
    ]


def test_a_failing_test_fails_the_model_naming_the_test_and_its_rows():
    night = record(unique_org=("pass", 0), registered=("fail", 3))
    passed, message = outcome(night, NODE)
    assert not passed and message == "test designated_associations_are_registered fail: 3 rows"
    assert (
        data_test_lines(night, NODE)[1]
        == "test designated_associations_are_registered: fail, 3 rows (0.01 s)"
    )


def test_a_model_not_built_tonight_or_skipped_says_so():
    assert outcome({"nodes": {}}, NODE) == (False, "not in tonight's dbt build")
    skipped = {"nodes": {NODE["id"]: {"status": "skipped", "message": "", "seconds": 0, "failures": None}}}
    assert outcome(skipped, NODE) == (False, "not built: a model it depends on failed")
    assert data_test_lines(skipped, NODE)[0] == "test unique(org_id): not run tonight"
    assert len(data_test_lines(skipped, NODE)) == 2  # nothing said of constraints never checked


def test_a_failed_constraint_is_the_one_duckdb_names_and_no_column_named_like_it():
    node = {
        "id": "model.socorg.organizations",
        "type": "model",
        "tests": [],
        "constraints": [["city", "not_null"], ["city_code", "not_null"], ["code", "not_null"]],
    }
    message = "Constraint Error: NOT NULL constraint failed: organizations.city_code"
    night = {"nodes": {node["id"]: {"status": "error", "message": message, "seconds": 0.1, "failures": None}}}
    assert constraint_results(night, node) == [("not_null", False, "city_code")]
