"""Registry snapshots from before credit codes: organizations named by organization code (组织机构代码)
or registration certificate number (登记证号), typed alike by both paths."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.common.errors import ExportError
from ingest.parse.files import parse_file
from ingest.rules.layouts import load_layout

DATE = dt.date(2015, 12, 31)
NAME = "registry_440300_20151231.csv"
REGISTRY = load_layout("registry")
# As a 2015 export of the city's registry lists them: certificate number, organization code (with its
# hyphen, as printed on the certificate, or without), no credit code column at all.
LEGACY = """\
深圳市社会组织名录（截至2015年12月31日）
序号,登记证号,组织机构代码,社会组织名称,社会组织类型,成立登记日期,登记状态
1,深社证字第00012号,50000123-4,深圳市甲协会,社会团体,2003-05-01,正常
2,深民证字第00345号,500006781,深圳市乙服务中心,民办非企业单位,2010-01-12,正常
3,深社证字第00013号,,深圳市丙协会,社会团体,2012-07-30,已注销
4,,,深圳市丁协会,社会团体,2013-01-01,正常
5,深社证字第00012号,,深圳市戊协会,社会团体,2013-01-01,正常
6,深社证字第00099号,50000123-4,深圳市己协会,社会团体,2013-01-01,正常
7,深社证字第00100号,5000-12,深圳市庚协会,社会团体,2013-01-01,正常
8,深社证字第 00013 号,,深圳市辛协会,社会团体,2013-01-01,正常
"""


def outcome(path: Path, out: Path, fast: bool):
    load = parse_file(path, NAME, REGISTRY, DATE, out / "raw", out / "quarantine", "-", fast=fast)
    loaded = pq.read_table(out / "raw" / f"{NAME[:-4]}.parquet").to_pylist()
    rejected = pq.read_table(out / "quarantine" / f"{NAME[:-4]}.parquet").to_pylist()
    for row in rejected:
        row["row_json"] = json.loads(row["row_json"])
    return load, loaded, rejected


@pytest.fixture
def legacy(tmp_path) -> Path:
    path = tmp_path / NAME
    path.write_text(LEGACY, encoding="utf-8")
    return path


def test_a_snapshot_keyed_by_registration_number_and_organization_code_loads(legacy, tmp_path):
    load, loaded, rejected = outcome(legacy, tmp_path / "fast", fast=True)
    assert (load.rows_read, load.rows_loaded) == (8, 4)
    assert load.quarantine_reasons == {
        "credit_code_missing": 1,  # no identifier at all
        "duplicate_organization_code": 1,  # 500001234 again: a row is named by its first identifier
        "duplicate_registration_number": 1,  # 深社证字第00013号 again, written with spaces
        "organization_code_invalid": 1,  # 5000-12
    }
    keys = [(r["credit_code"], r["organization_code"], r["registration_number"]) for r in loaded]
    assert keys == [
        (None, "500001234", "深社证字第00012号"),
        (None, "500006781", "深民证字第00345号"),
        (None, None, "深社证字第00013号"),
        (None, None, "深社证字第00012号"),  # named by it alone: not the row named by its organization code
    ]
    assert {(r["source_row"], r["reason"], r["column_name"], r["value"]) for r in rejected} == {
        (6, "credit_code_missing", "credit_code", None),
        (8, "duplicate_organization_code", "organization_code", "500001234"),
        (9, "organization_code_invalid", "organization_code", "5000-12"),
        (10, "duplicate_registration_number", "registration_number", "深社证字第00013号"),
    }


def test_both_paths_type_a_legacy_snapshot_alike(legacy, tmp_path):
    fast = outcome(legacy, tmp_path / "fast", fast=True)
    python = outcome(legacy, tmp_path / "python", fast=False)
    assert fast[0].typed_by == "duckdb" and python[0].typed_by == "python"
    assert fast[1:] == python[1:]
    assert fast[0].quarantine_reasons == python[0].quarantine_reasons


def test_a_snapshot_without_any_column_naming_organizations_is_refused(tmp_path):
    path = tmp_path / NAME
    path.write_text("社会组织名称,社会组织类型,登记状态\n深圳市甲协会,社会团体,正常\n", encoding="utf-8")
    with pytest.raises(ExportError) as err:
        parse_file(path, NAME, REGISTRY, DATE, tmp_path / "raw", tmp_path / "quarantine", "-")
    message = str(err.value)
    assert "lacks required column credit_code (统一社会信用代码 / 信用代码 / 社会信用代码) or " in message
    assert "organization_code (组织机构代码 / 机构代码) or registration_number (登记证号" in message
