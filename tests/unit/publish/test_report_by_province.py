"""A night of many cities: the report has a section per province with a table of its cities (no chart per
city: a national night's 342 city sections took the publish a minute)."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from ingest.publish.report.frames import CITY_SECTIONS_UP_TO
from ingest.publish.report.page import PROVINCE_TABLE, render_report

NIGHT = dt.date(2023, 10, 31)


def frames(cities: int) -> dict:
    rows = []
    for k in range(cities):
        province = "32" if k % 2 else "44"
        rows.append({"city_code": f"{province}{k + 1:02d}00", "city_name": f"市{k}", "snapshot_date": NIGHT,
                     **{c: 100 * k + i for i, c in enumerate(PROVINCE_TABLE)}})  # fmt: skip
    provinces = pd.DataFrame(
        [
            {"province_code": "320000", "province_name": "江苏省", "active_org_count": 77240,
             "city_count": cities // 2, "expected_city_count": 13, "is_complete": False},
            {"province_code": "440000", "province_name": "广东省", "active_org_count": 81000,
             "city_count": cities - cities // 2, "expected_city_count": 21, "is_complete": True},
        ]
    )  # fmt: skip
    empty = pd.DataFrame
    return {
        "city_summary": pd.DataFrame(rows),
        "province_summary": provinces,
        "registrar_placements": empty(columns=["registrar_code", "registrar_name", "placement",
                                               "counted_in_city_code", "org_count", "active_org_count"]),
        "clusters": empty(columns=["city_code", "cluster_code", "cluster_name",
                                   "association_in_good_standing", "association_standing_reason"]),
        "loads": empty(columns=["source", "rows_read", "rows_loaded", "rows_quarantined"]),
        "quarantine_reasons": empty(columns=["source", "reason", "quarantined_rows"]),
        "quality": empty(columns=["source", "expectation", "column_name", "severity", "unexpected_count",
                                  "success"]),
    }  # fmt: skip


def test_many_cities_are_shown_by_province_with_every_citys_figures():
    cities = CITY_SECTIONS_UP_TO + 2
    page = render_report(frames(cities), NIGHT, {}, "socorg.xlsx")
    assert re.findall(r'<section class="city" id="(province-\d+)">', page) == [
        "province-320000",
        "province-440000",
    ]
    assert 'id="city-' not in page and "<svg" not in page
    cells = re.findall(r'data-dataset="city_summary" data-key="(\d+)" data-column="(\w+)">([^<]*)<', page)
    assert len(cells) == cities * len(PROVINCE_TABLE)
    assert ("440100", "active_org_count", "0") in cells and ("320200", "foundation_count", "103") in cells
    jiangsu = page[page.index('id="province-320000"') : page.index('id="province-440000"')]
    assert "江苏省" in jiangsu and "77,240" in jiangsu and "21 / 13" in jiangsu
    assert all(f'data-key="32{k:02d}00"' in jiangsu for k in range(2, cities + 1, 2))
