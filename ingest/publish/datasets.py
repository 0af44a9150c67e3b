"""The published datasets: their sort keys and grain, their paths, and their docs from the dbt contracts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
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
    "organization_standing": Dataset(
        ("credit_code",), "active organization and its standing · 社会组织及其信用状况（年检、信用名单）"
    ),
    "annual_reports": Dataset(
        ("credit_code", "report_year"), "organization × report year · 社会组织 × 年度工作报告年度"
    ),
    "loads": Dataset(("source", "file_name", "version"), "export file and version · 导入文件及其版本"),
    "quality": Dataset(
        ("source", "expectation", "column_name"), "quality expectation checked on a source · 质量检查项"
    ),
    "quarantine_reasons": Dataset(
        ("source", "file_name", "version", "reason"), "file × quarantine reason · 文件 × 隔离原因"
    ),
    "standing_unmatched": Dataset(
        ("source", "file_name", "source_row"),
        "standing list row naming an organization the registry does not know · 名单中查无此组织的行",
    ),
}


def dataset_path(publish: Path, dataset: str, export_date: dt.date | str) -> Path:
    """`publish/<dataset>/snapshot_date=<date>/<dataset>.parquet` (release_date=… for those by year)."""
    night = export_date if isinstance(export_date, str) else export_date.isoformat()
    return publish / dataset / f"{DATASETS[dataset].partition}={night}" / f"{dataset}.parquet"


def dataset_docs() -> dict[str, dict]:
    """Per dataset: its description and each column's, as the marts' dbt contracts (their YAML) write them,
    English then Chinese — the catalog page, marts.duckdb's comments, the report and the docs site all
    read them here."""
    return {
        name: {"description": doc["description"], "columns": dict(doc["columns"])}
        for name, doc in _contracts().items()
    }


def dataset_contract(dataset: str) -> dict:
    """A published dataset's contract: its description, and per column its type and description."""
    return _contracts()[dataset]


@cache
def _contracts() -> dict[str, dict]:
    import yaml

    from ingest.common.paths import DBT_DIR

    found = {}
    for path in sorted((DBT_DIR / "models" / "marts").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            if model["name"] in DATASETS:
                columns = model.get("columns", [])
                found[model["name"]] = {
                    "description": " ".join(model.get("description", "").split()),
                    "columns": {c["name"]: " ".join(c.get("description", "").split()) for c in columns},
                    "types": {c["name"]: c.get("data_type", "") for c in columns},
                }
    missing = sorted(set(DATASETS) - set(found))
    if missing:
        raise RuntimeError(f"no dbt contract (models/marts/*.yml) for the published datasets {missing}")
    return found
