"""Personal data: masked in messages; quarantined rows keep no personal value, on both typing paths."""

from __future__ import annotations

import json

import duckdb
import pytest

from ingest.rules.layouts import load_layout
from ingest.rules.personal import mask, quarantine_json, quarantine_json_sql

MEMBER = {
    "member_name": "苏州润力咨询有限公司",
    "member_credit_code": "91320500106652664T",
    "member_kind": "单位会员",
    "role": "会员单位",
    "joined_on": "去年",
    "contact_person": "黄小明",
    "phone": "15412346152",
}


PERSON = {
    **MEMBER,
    "member_name": "王五",
    "member_credit_code": "320502198001011234",
    "member_kind": "个人会员",
}
KEPT = ["member_name", "member_credit_code", "member_kind", "role", "joined_on"]
EVERY_PERSONAL = ["contact_person", "member_credit_code", "member_name", "phone"]
REGISTRY = {
    "credit_code": "51320508148842327H",
    "org_name": "摄影学会",
    "legal_representative": "黄小明",
    "phone": "1",
}


@pytest.mark.parametrize(
    ("source", "cells", "kept", "withheld"),
    [
        ("membership", MEMBER, KEPT, ["contact_person", "phone"]),
        ("membership", PERSON, ["member_kind", "role", "joined_on"], EVERY_PERSONAL),
        (
            "membership",
            {**PERSON, "member_kind": "个　人 会员"},
            ["member_kind", "role", "joined_on"],
            EVERY_PERSONAL,
        ),
        ("membership", {**MEMBER, "member_kind": None}, KEPT, ["contact_person", "phone"]),
        ("registry", REGISTRY, ["credit_code", "org_name"], ["legal_representative", "phone"]),
        ("qualifications", {"credit_code": "91320500106652664T", "enterprise_name": "润力"}, None, None),
    ],
    ids=[
        "organization",
        "individual",
        "individual spaced",
        "kind missing",
        "registry",
        "no personal columns",
    ],
)
def test_both_paths_keep_the_same_cells_and_withhold_the_personal_ones(source, cells, kept, withheld):
    layout = load_layout(source)
    python = json.loads(quarantine_json(layout, cells))
    columns = [(name, "null" if v is None else f"'{v}'") for name, v in cells.items()]
    [(sql,)] = duckdb.execute(f"select {quarantine_json_sql(layout, columns)}").fetchall()
    assert json.loads(sql) == python
    assert [k for k in python if k != "_withheld"] == (kept or list(cells))
    assert python.get("_withheld") == withheld
    assert not {"黄小明", "15412346152", "王五", "320502198001011234"} & {str(v) for v in python.values()}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("黄小明", "黄**"),
        ("王五", "王*"),
        ("15412346152", "154****6152"),
        ("0512-6523 1234", "051*******1234"),
        ("苏州市吴中区社会组织", "苏州市*******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask(value, shown):
    assert mask(value) == shown
