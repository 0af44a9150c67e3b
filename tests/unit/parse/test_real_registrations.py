"""A new export layout is configuration: the real registration rows load through a YAML layout."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil

import pyarrow.parquet as pq
import pytest

from ingest.land.landing import land_night
from ingest.parse.night import parse_night, partition
from ingest.rules.layouts import layout_for

DATE = dt.date(2023, 10, 31)
FILES = {
    "civil_affairs_5x_subset.csv": "civil_affairs_5x_2023.csv",
    "jiangsu_1981.csv": "jiangsu_1981.csv",
    "guangdong_1981.csv": "guangdong_1981.csv",
}


@pytest.fixture(scope="module")
def loaded(shared, tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    folder = root / "exports" / "registry" / DATE.isoformat()
    folder.mkdir(parents=True)
    for source, name in FILES.items():
        shutil.copy(shared / "data" / "real-registrations" / source, folder / name)
    land_night(str(root / "exports"), DATE, root / "data")
    loads = {x.file_name: x for x in parse_night(root / "data", DATE)}
    rows = pq.read_table(partition(root / "data", "registry", DATE)).to_pylist()
    originals = {
        name: list(csv.DictReader((shared / "data" / "real-registrations" / source).open(encoding="utf-8")))
        for source, name in FILES.items()
    }
    return loads, rows, originals


def test_the_layout_is_chosen_by_file_name():
    assert layout_for("registry", "jiangsu_1981.csv").name == "registry_national_extract"
    assert layout_for("registry", "registry_320500_20231031.csv").name == "registry"


def test_every_row_is_loaded_or_classified_and_the_counts_add_up(loaded):
    loads, rows, originals = loaded
    for name, load in loads.items():
        assert load.rows_read == len(originals[name]) == load.rows_loaded + load.rows_quarantined
    assert len(rows) == sum(x.rows_loaded for x in loads.values())


def test_civil_affairs_rows_load_with_their_type_from_the_credit_code(loaded):
    loads, rows, _ = loaded
    subset = loads["civil_affairs_5x_2023.csv"]
    assert (subset.rows_read, subset.rows_loaded) == (75, 74)
    assert subset.quarantine_reasons == {"credit_code_legacy_registration_number": 1}  # 510132000055145
    types = {r["org_type"] for r in rows if r["source_file"] == "civil_affairs_5x_2023.csv"}
    assert types == {"social_group", "social_service_org"}
    assert sum(r["org_type"] == "social_group" for r in rows) == 70
    assert all(r["status"] == "active" for r in rows)


def test_real_defects_are_classified(loaded):
    loads, rows, originals = loaded
    jiangsu = loads["jiangsu_1981.csv"]
    legacy = sum(len(r["统一社会信用代码"].strip()) in (13, 15) for r in originals["jiangsu_1981.csv"])
    assert legacy > 0
    assert jiangsu.quarantine_reasons["credit_code_legacy_registration_number"] == legacy
    assert jiangsu.quarantine_reasons["not_a_social_organization"] > 400
    guangdong = loads["guangdong_1981.csv"]
    na_reps = sum(r["法人代表"] == "N/A" for r in originals["guangdong_1981.csv"])
    assert guangdong.cell_notes["legal_representative:not_available"] == na_reps > 0
    subset = loads["civil_affairs_5x_2023.csv"]
    assert subset.cell_notes["registered_capital:amount_foreign_currency"] >= 1
    capital = {r["org_name"]: r["registered_capital"] for r in rows}
    assert float(capital["湖北省供销合作经济学会"]) == 30000.0


def test_the_load_log_records_notes_without_personal_data(loaded, tmp_path):
    loads, _, _ = loaded
    row = loads["guangdong_1981.csv"].as_row()
    notes = json.loads(row["cell_notes"])
    assert all(":" in key and isinstance(count, int) for key, count in notes.items())
