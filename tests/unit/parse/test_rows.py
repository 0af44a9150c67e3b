"""Typing one row against a layout (ingest.parse.rows): typed values, the first reason, cell notes."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from ingest.parse.rows import Rejected, type_record
from ingest.rules.creditcode import corrupt_check_character, make_code
from ingest.rules.layouts import load_layout

DATE = dt.date(2023, 10, 31)
CODE = make_code("5", "1", "320508", random.Random(1))


def cells(**changed) -> dict[str, object]:
    row = {"credit_code": CODE, "org_name": "苏州市（围棋）協會", "org_type": "社团", "status": "存续",
           "registered_on": "2019年3月5日", "rating": "AAAA级", "legal_representative": "张三"}  # fmt: skip
    return {**row, **changed}


def test_a_row_is_typed_by_the_rules_and_personal_cells_are_dropped():
    record = type_record(load_layout("registry"), cells(), DATE)
    assert record["credit_code"] == CODE and record["org_type"] == "social_group"
    assert record["status"] == "active" and record["rating"] == 4
    assert record["registered_on"] == dt.date(2019, 3, 5)
    assert record["org_name"] == "苏州市(围棋)協會" and record["org_name_normalized"] == "苏州市(围棋)协会"
    assert "legal_representative" not in record


@pytest.mark.parametrize(
    ("changed", "reason", "column"),
    [
        ({"credit_code": corrupt_check_character(CODE)}, "credit_code_check_character", "credit_code"),
        ({"org_name": ""}, "org_name_missing", "org_name"),
        ({"org_type": "协会"}, "org_type_unknown", "org_type"),
        ({"registered_on": "2019-02-30"}, "date_impossible", "registered_on"),
        ({"registered_on": "2024-01-01"}, "date_in_future", "registered_on"),
        ({"rating": "6A"}, "grade_unknown", "rating"),
        ({"org_type": "协会", "rating": "6A"}, "org_type_unknown", "org_type"),  # the first column's
    ],
)
def test_a_bad_cell_rejects_the_row_with_its_reason_and_column(changed, reason, column):
    with pytest.raises(Rejected) as rejected:
        type_record(load_layout("registry"), cells(**changed), DATE)
    assert (rejected.value.reason, rejected.value.column) == (reason, column)


def test_not_available_markers_become_null_and_are_counted():
    layout = load_layout("registry_national_extract")
    notes: Counter = Counter()
    record = type_record(layout, {**cells(), "registered_on": "N/A"}, DATE, notes)
    assert record["registered_on"] is None and notes["registered_on:not_available"] == 1
    assert record["org_type"] == "social_group"  # derived from the code's category characters 51
