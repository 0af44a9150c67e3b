"""A city outside the samples, added by writing a site folder only, its exports made by hand as its
offices write them (not by our generator): a legacy `.xls` registry with metadata lines, a merged
two-row header, headers of its own and a signed footer; an 8-row qualification list with curly-quoted
and annotated labels. The night publishes figures counted here by hand, and no personal value reaches
publish/ or docs/."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random

import duckdb
import pytest
import xlwt
from runner import socorg

from ingest.rules.creditcode import make_code

pytestmark = pytest.mark.e2e

DATE = dt.date(2023, 10, 31)
CITY = "330100"  # 杭州市: no sample writes it
RNG = random.Random(330100)
PEOPLE = ["赵建华", "钱丽萍", "孙志强", "李秀英", "周国栋", "吴海燕", "郑文斌", "王春梅", "冯立新", "陈晓东"]
PHONES = ["0571-87654321", "13957112345"]
# (category, type as the office writes it, status, grade as written); the district is 西湖区.
ORGS = [
    ("1", "社会团体", "正常", "4A级（2021年）"),
    ("1", "社会团体（2021年）", "正常", "ＡＡＡ级"),
    ("1", "社团", "正常", ""),
    ("1", "社会团体", "已注销", ""),
    ("1", "社会团体", "正常", "5A【第三批】"),
    ("2", "民办非企业单位", "正常", "未评估"),
    ("2", "社会服务机构", "正常", "3A"),
    ("2", "民非", "正常", ""),
    ("3", "基金会", "正常", "AAAA级"),
    ("3", "基金会", "正常", ""),
]
QUALIFICATIONS = [
    "专精特新“小巨人”企业",  # as the ministry writes it
    '国家级专精特新"小巨人"企业',
    "专精特新「小巨人」企业",
    "高新技术企业（复审）",
    "高新技术企业",
    "省级专精特新中小企业",
    "国家高新技术企业",
    "专精特新企业",  # no list says what this is: quarantined, listed, still published
]


def _registry_xls(path, codes) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("登记信息")
    sheet.write(0, 0, "杭州市社会组织登记信息")
    sheet.write(1, 0, "填报单位：杭州市民政局")
    sheet.write(1, 4, "填报日期：2023年10月31日")
    sheet.write(2, 0, "单位：万元")
    sheet.write_merge(3, 3, 0, 2, "基本信息")
    sheet.write_merge(3, 3, 3, 7, "登记信息")
    header = ["统一社会信用代码", "社会组织全称", "组织类别", "成立登记日期", "登记状态", "评估等级",
              "行政区划代码", "法定代表人"]  # fmt: skip
    for c, name in enumerate(header):
        sheet.write(4, c, name)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, (code, (_, kind, status, grade)) in enumerate(zip(codes, ORGS, strict=True), start=5):
        for c, value in enumerate([code, f"杭州市第{r - 4}协会", kind, None, status, grade, "330106",
                                   PEOPLE[r - 5]]):  # fmt: skip
            if value:
                sheet.write(r, c, value)
        sheet.write(r, 3, dt.datetime(2000 + r, 3, 1), date_style)
    last = 5 + len(ORGS)
    sheet.write(last, 0, f"共 {len(ORGS)} 条")
    sheet.write(last + 1, 0, f"制表人：{PEOPLE[0]}")
    sheet.write(last + 1, 3, f"审核人：{PEOPLE[1]}")
    sheet.write(last + 1, 6, f"联系电话：{PHONES[0]}")
    sheet.write(last + 2, 0, "2023年10月31日")
    book.save(str(path))


# The site's layout for the bureau's export: its own names for two columns, only its own files.
HANGZHOU_LAYOUT = """\
source: registry
description: Hangzhou's registry export (杭州市社会组织登记信息), as the bureau's system writes it
file_pattern: '^registry_(?P<city_code>330100)_(?P<file_date>\\d{8})\\.xls$'
unique_key: credit_code
columns:
  credit_code: {type: credit_code, required: true, aliases: [统一社会信用代码]}
  org_name: {type: name, required: true, aliases: [社会组织全称]}
  org_type: {type: org_type, required: true, aliases: [组织类别]}
  registered_on: {type: date, not_after_export: true, aliases: [成立登记日期]}
  status: {type: org_status, required: true, aliases: [登记状态]}
  rating: {type: grade, aliases: [评估等级]}
  division_code: {type: division, aliases: [行政区划代码]}
  legal_representative: {type: text, personal: true, aliases: [法定代表人]}
"""


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    root = tmp_path_factory.mktemp("hangzhou")
    exports, data, site = root / "exports", root / "data", root / "site"
    (site / "layouts").mkdir(parents=True)
    (site / "layouts" / "registry_hangzhou.yaml").write_text(HANGZHOU_LAYOUT, encoding="utf-8")
    (site / "seeds").mkdir()
    (site / "seeds" / "cluster_taxonomy.csv").write_text(
        "city_code,cluster_code,cluster_name,category,sector,is_illustrative\n"
        f"{CITY},{CITY}-01,数字安防,leading_industry,电子信息,false\n"
        f"{CITY},{CITY}-02,生物医药,strategic_emerging,生物,false\n",
        encoding="utf-8",
    )
    registry = exports / "registry" / DATE.isoformat()
    registry.mkdir(parents=True)
    codes = [make_code("5", category, "330106", RNG) for category, *_ in ORGS]
    _registry_xls(registry / f"registry_{CITY}_{DATE:%Y%m%d}.xls", codes)
    (site / "seeds" / "cluster_associations.csv").write_text(
        "city_code,cluster_code,association_credit_code,association_name,is_illustrative\n"
        f"{CITY},{CITY}-01,{codes[0]},杭州市第1协会,false\n",
        encoding="utf-8",
    )
    lists = exports / "qualifications" / DATE.isoformat()
    lists.mkdir(parents=True)
    with (lists / "hangzhou_2023.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["企业名称", "统一社会信用代码", "认定类型", "认定年度"])
        for k, label in enumerate(QUALIFICATIONS):
            out.writerow([f"杭州{k}科技有限公司", make_code("9", "1", "330106", RNG), label, 2023])
        out.writerow([f"制表人：{PEOPLE[2]}", "", f"联系电话：{PHONES[1]}"])
    env = {**os.environ, "SOCORG_EXPORTS": str(exports), "SOCORG_DATA": str(data)}
    env.pop("SOCORG_SITE", None)
    registry_file = str(registry / f"registry_{CITY}_{DATE:%Y%m%d}.xls")
    without_site = socorg("inspect", registry_file, env=env)
    with_site = socorg("inspect", registry_file, "--site", str(site), env=env)
    done = socorg("run", "--date", DATE.isoformat(), "--site", str(site), env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {"data": data, "stdout": done.stdout, "inspect": (without_site, with_site)}


def test_the_site_layout_is_what_reads_the_bureaus_export(night):
    without_site, with_site = night["inspect"]
    assert without_site.returncode == 1 and "lacks required column org_name" in without_site.stdout
    assert with_site.returncode == 0, with_site.stdout
    assert "layout:     registry_hangzhou" in with_site.stdout
    assert "社会组织全称 → org_name" in with_site.stdout and "10 read, 10 would load" in with_site.stdout


def _rows(data, dataset: str) -> list[dict]:
    rel = duckdb.sql(f"select * from read_parquet('{data}/publish/{dataset}/*/*.parquet')")
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def test_the_city_publishes_the_figures_counted_by_hand(night):
    [city] = [r for r in _rows(night["data"], "city_summary") if r["city_code"] == CITY]
    active = [o for o in ORGS if o[2] == "正常"]
    assert city["active_org_count"] == len(active) == 9
    assert city["social_group_count"] == sum(o[0] == "1" for o in active) == 4
    assert city["social_service_org_count"] == 3 and city["foundation_count"] == 2
    organizations = {o["org_name"]: o for o in _rows(night["data"], "organizations")}
    assert len(organizations) == 10
    assert [organizations[f"杭州市第{k}协会"]["rating"] for k in (1, 2, 3, 5, 6, 9)] == [
        4,
        3,
        None,
        5,
        None,
        4,
    ]


def test_the_citys_clusters_come_from_its_site(night):
    clusters = {c["cluster_code"]: c for c in _rows(night["data"], "clusters") if c["city_code"] == CITY}
    assert set(clusters) == {f"{CITY}-01", f"{CITY}-02"}
    assert clusters[f"{CITY}-01"]["cluster_name"] == "数字安防"
    assert (clusters[f"{CITY}-01"]["has_association"], clusters[f"{CITY}-01"]["association_count"]) == (
        True,
        1,
    )
    assert clusters[f"{CITY}-02"]["has_association"] is False
    [city] = [r for r in _rows(night["data"], "city_summary") if r["city_code"] == CITY]
    assert (city["cluster_count"], city["clusters_with_association"]) == (2, 1)


def test_the_signed_footer_reconciles_and_is_not_data(night):
    [load] = [r for r in _rows(night["data"], "loads") if r["source"] == "registry"]
    assert (load["rows_read"], load["rows_loaded"], load["rows_quarantined"]) == (10, 10, 0)
    assert (load["footer_total"], load["footer_rows"], load["title_rows"]) == (10, 3, 4)


def test_the_small_qualification_list_publishes_and_names_its_unknown_label(night):
    [load] = [r for r in _rows(night["data"], "loads") if r["source"] == "qualifications"]
    assert (load["rows_read"], load["rows_loaded"], load["rows_quarantined"]) == (8, 7, 1)
    issues = json.loads(
        (night["data"] / "publish" / "releases" / DATE.isoformat() / "issues.json").read_text()
    )
    unknown = [i for i in issues["issues"] if i["kind"] == "unknown_label"]
    assert [(i["column"], i["label"], i["rows"]) for i in unknown] == [("qualification", "专精特新企业", 1)]


def test_no_personal_value_anywhere_under_publish_or_docs(night):
    personal = [*PEOPLE, *PHONES]
    for folder in ("publish", "docs"):
        for path in (night["data"] / folder).rglob("*"):
            if path.suffix in (".html", ".json", ".csv", ".txt", ".md"):
                text = path.read_text(encoding="utf-8", errors="replace")
                assert not [p for p in personal if p in text], path
            elif path.suffix == ".parquet":
                rel = duckdb.sql(f"select * from read_parquet('{path}')")
                text = " ".join(str(v) for row in rel.fetchall() for v in row)
                assert not [p for p in personal if p in text], path
    assert not [p for p in personal if p in night["stdout"]]
