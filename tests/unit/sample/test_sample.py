"""Sample exports: deterministic, calibrated to the published figures, and as messy as real ones."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.parse.files import parse_file
from ingest.parse.readers import detect_encoding
from ingest.rules.layouts import load_layout
from ingest.sample.generate import write_sample

DATE = dt.date(2023, 10, 31)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("exports")
    return out, write_sample(out, DATE, "all", seed=7)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_bytes(sample, tmp_path):
    out, _ = sample
    write_sample(tmp_path / "again", DATE, "all", seed=7)
    assert _digests(tmp_path / "again") == _digests(out)
    write_sample(tmp_path / "other", DATE, "suzhou", seed=8)
    other = _digests(tmp_path / "other")
    name = "registry/2023-10-31/registry_320500_20231031.xlsx"
    assert other[name] != _digests(out)[name]


def test_suzhou_truth_is_the_published_figures(sample, suzhou_figures):
    _, truth = sample
    suzhou = truth["cities"]["320500"]
    assert {k: suzhou["city_summary"][k] for k in suzhou_figures} == suzhou_figures
    assert suzhou["inactive_org_count"] > 0
    medical = "320500-13"  # 医疗器械 in the taxonomy seed
    assert suzhou["cluster_member_enterprises"][medical] == 528


def test_shenzhen_has_20_plus_8_clusters_and_an_association_for_each_of_the_20(sample):
    _, truth = sample
    shenzhen = truth["cities"]["440300"]["city_summary"]
    assert shenzhen["cluster_count"] == 28
    assert 20 < shenzhen["clusters_with_association"] < 28


def test_exports_carry_the_mess_of_real_ones(sample):
    out, truth = sample
    files = [p for p in out.rglob("*") if p.is_file() and "_truth" not in p.parts]
    suffixes = {p.suffix for p in files}
    encodings = {detect_encoding(p, ("utf-8", "gb18030")) for p in files if p.suffix == ".csv"}
    assert suffixes == {".csv", ".xlsx"}
    assert encodings == {"utf-8", "utf-8-sig", "gb18030"}
    reasons = {q["reason"] for q in truth["quarantine"]}
    assert {
        "credit_code_check_character",
        "org_type_unknown",
        "duplicate_credit_code",
        "date_unparseable",
    } <= reasons
    shenzhen_registry = (out / "registry/2023-10-31/registry_440300_20231031.csv").read_bytes()
    text = shenzhen_registry.decode("gb18030")
    assert text.startswith("深圳市社会组织名录") and "共 " in text.splitlines()[-1]
    assert "信用代码" in text.splitlines()[1] and "统一社会信用代码" not in text.splitlines()[1]


def test_good_codes_are_valid_for_their_type_registrar_and_division(sample, tmp_path):
    out, _ = sample
    path = out / "registry/2023-10-31/registry_320500_20231031.xlsx"
    layout = load_layout("registry")
    load = parse_file(path, path.name, layout, DATE, tmp_path / "r", tmp_path / "q", "x")
    rows = pq.read_table(tmp_path / "r" / "registry_320500_20231031.parquet").to_pylist()
    category = {"social_group": "1", "social_service_org": "2", "foundation": "3"}
    suzhou = {
        "320500",
        "320505",
        "320506",
        "320507",
        "320508",
        "320509",
        "320581",
        "320582",
        "320583",
        "320585",
        "320594",
    }
    assert load.rows_loaded == len(rows) > 7724
    assert all(r["credit_code"][0] == "5" for r in rows)
    assert all(r["credit_code"][1] == category[r["org_type"]] for r in rows)
    assert all(r["credit_code"][2:8] in suzhou for r in rows)
