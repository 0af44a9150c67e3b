"""The published datasets: their sort keys and grain, their paths, and their docs from dbt's manifest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Dataset:
    """A published dataset: the columns its rows are sorted by (its key), what one row is, and the
    column a night's file is published under (`<dataset>/<partition>=<night>/`): snapshot_date, or for
    the datasets by year, whose snapshot_date is each row's own snapshot, release_date."""

    key: tuple[str, ...]
    grain: str
    partition: str = "snapshot_date"


DATASETS = {
    "organizations": Dataset(("org_id",), "registered organization · 登记的社会组织"),
    "organization_history": Dataset(
        ("org_id", "version_no"), "version of an organization's registration · 登记信息的一个版本"
    ),
    "registry_changes": Dataset(
        ("org_id", "change_type"),
        "change to an organization since the previous night · 较前一夜的一项变更",
    ),
    "memberships": Dataset(
        ("association_credit_code", "member_key"), "association × member enterprise · 协会 × 会员单位"
    ),
    "membership_changes": Dataset(
        ("association_credit_code", "member_key", "change_type"),
        "member joining, leaving or changing role since the previous night · 会员入会、退会或职务变更",
    ),
    "enterprises": Dataset(("enterprise_key",), "distinct member enterprise · 会员企业（去重）"),
    "clusters": Dataset(("city_code", "cluster_code"), "city × industrial cluster · 城市 × 产业集群"),
    "registry_stats": Dataset(
        ("city_code", "division_code", "org_type"),
        "city × district × organization type · 城市 × 区县 × 组织类型",
    ),
    "city_summary": Dataset(("city_code",), "city · 城市"),
    "city_by_year": Dataset(
        ("city_code", "year"), "city × year (its last snapshot) · 城市 × 年度", "release_date"
    ),
    "cluster_by_year": Dataset(
        ("city_code", "cluster_code", "year"),
        "city × industrial cluster × year (its last snapshot) · 城市 × 产业集群 × 年度",
        "release_date",
    ),
    "province_summary": Dataset(("province_code",), "province · 省份"),
    "registrar_placements": Dataset(
        ("registrar_code",), "registering authority outside the cities' divisions · 城市以外的登记机关"
    ),
    "funding": Dataset(
        ("publisher", "list_year", "project_name", "purchaser", "provider_name", "amount"),
        "government purchase-of-service project × provider · 政府购买服务项目 × 承接主体",
    ),
    "loads": Dataset(("source", "file_name", "version"), "export file and version · 导入文件及其版本"),
    "quality": Dataset(
        ("source", "expectation", "column_name"), "quality expectation checked on a source · 质量检查项"
    ),
    "quarantine_reasons": Dataset(
        ("source", "file_name", "version", "reason"), "file × quarantine reason · 文件 × 隔离原因"
    ),
}


def dataset_path(publish: Path, dataset: str, export_date: dt.date | str) -> Path:
    """`publish/<dataset>/snapshot_date=<date>/<dataset>.parquet` (release_date=… for those by year)."""
    night = export_date if isinstance(export_date, str) else export_date.isoformat()
    return publish / dataset / f"{DATASETS[dataset].partition}={night}" / f"{dataset}.parquet"


def manifest_path(data: Path) -> Path:
    """dbt's manifest of the last build, which holds the models' and columns' descriptions."""
    return data / "runs" / "dbt" / "target" / "manifest.json"


def dataset_docs(data: Path) -> dict[str, dict]:
    """Per dataset: its description and each column's, as written in the marts' dbt YAML."""
    path = manifest_path(data)
    if not path.exists():
        raise FileNotFoundError(f"{path}: dbt's manifest is missing; the transform stage writes it")
    from ingest.common.files import json_field, read_json

    nodes = json_field(path, read_json(path), "nodes").values()
    models = {n["name"]: n for n in nodes if n["resource_type"] == "model" and n["name"] in DATASETS}
    return {
        name: {
            "description": " ".join(model.get("description", "").split()),
            "columns": {
                c: " ".join(spec.get("description", "").split()) for c, spec in model["columns"].items()
            },
        }
        for name, model in models.items()
    }
