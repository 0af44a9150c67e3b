"""Labels by meaning (ingest.rules.typing_rules.label_key): what offices vary folds away, meaning stays."""

from __future__ import annotations

import pytest

from ingest.parse.cells import CellError, parse_grade, parse_member_role, parse_org_type, parse_qualification
from ingest.rules.typing_rules import ENUMS, GRADE_SPELLINGS, label_key


@pytest.mark.parametrize("kind", [*ENUMS, "grade"])
def test_no_two_spellings_that_fold_alike_mean_different_things(kind):
    mapping = GRADE_SPELLINGS if kind == "grade" else ENUMS[kind][0]
    meanings: dict[str, set] = {}
    for spelling, value in mapping.items():
        meanings.setdefault(label_key(spelling), set()).add(value)
    assert {k: v for k, v in meanings.items() if len(v) > 1} == {}


@pytest.mark.parametrize(
    "label",
    [
        "专精特新“小巨人”企业",  # as the ministry writes it
        '专精特新"小巨人"企业',
        "专精特新「小巨人」企业",
        "专精特新『小巨人』企业",
        "专精特新‘小巨人’企业",
        "专精特新＂小巨人＂企业",
        "国家级专精特新“小巨人”企业",
        " 专精特新 “小巨人” 企业（第五批） ",
        "专精特新“小巨人”企业[2023年]",
    ],
)
def test_every_way_offices_write_the_national_list_is_a_little_giant(label):
    assert parse_qualification(label) == "little_giant"


@pytest.mark.parametrize(
    ("label", "meaning"),
    [
        ("省级专精特新中小企业", "srdi"),  # a provincial list: never a little giant
        ("专精特新中小企业（2022年）", "srdi"),
        ("高新技术企业（复审）", "high_tech"),
        ("国家高新技术企业", "high_tech"),
        ("上市公司【A股】", "listed"),
    ],
)
def test_synonyms_and_annotations(label, meaning):
    assert parse_qualification(label) == meaning


@pytest.mark.parametrize(
    "label", ["专精特新企业", "小巨人", "（2021年）", "高新", "高新技术企业（拟认定）", "小巨人企业（培育）"]
)
def test_a_label_that_is_not_a_known_one_is_still_unknown(label):
    with pytest.raises(CellError, match="qualification_unknown"):
        parse_qualification(label)


def test_grades_types_and_roles_fold_the_same_way():
    assert [parse_grade(g) for g in ["4A级（2021年）", "ＡＡＡ级", "5A【第三批】", "“4A”"]] == [4, 3, 5, 4]
    assert parse_org_type("社会团体（2021年）") == "social_group"
    assert parse_member_role("「理事单位」") == "director"


@pytest.mark.parametrize("fast", [True, False])
def test_raw_keeps_each_label_as_written_beside_its_meaning(fast, tmp_path):
    import datetime as dt
    from pathlib import Path

    import pyarrow.parquet as pq

    from ingest.parse.files import parse_file
    from ingest.rules.layouts import layout_for

    corpus = Path(__file__).resolve().parents[2] / "bad_inputs" / "files"
    name = "little_giant_2023.csv"
    load = parse_file(corpus / "qualification_labels.csv", name, layout_for("qualifications", name),
                      dt.date(2023, 10, 31), tmp_path / "raw", tmp_path / "q", "-", fast=fast)  # fmt: skip
    assert load.typed_by == ("duckdb" if fast else "python")
    rows = pq.read_table(tmp_path / "raw" / "little_giant_2023.parquet").to_pylist()
    assert [(r["qualification"], r["qualification_label"]) for r in rows] == [
        ("little_giant", "专精特新“小巨人”企业"),
        ("little_giant", '国家级专精特新"小巨人"企业'),
        ("little_giant", "专精特新「小巨人」企业"),
        ("high_tech", "高新技术企业（复审）"),
        ("srdi", "省级专精特新中小企业"),
    ]
