"""The site folder (ingest.rules.site): layouts a deployment adds without touching the package."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.land.landing import land_night
from ingest.parse.night import parse_night
from ingest.publish.fingerprint import code_fingerprint
from ingest.rules.creditcode import make_code
from ingest.rules.layouts import load_layouts
from ingest.rules.site import SiteError, check_site

DATE = dt.date(2025, 10, 31)
HEAD = "source: registry\nfile_pattern: '^x$'\ncolumns:\n"
GOOD_REGISTRY = Path(__file__).resolve().parents[2] / "bad_inputs" / "files" / "line_endings_lf.csv"
SZSE = """\
# The Shenzhen Stock Exchange's own A-share list (A股列表), as the exchange publishes it: no credit
# codes, so a company is matched by its full name (公司全称).
source: qualifications
description: Companies listed on the Shenzhen Stock Exchange (A股列表)
file_pattern: '^(?P<list_name>szse_a_share_list)\\.xlsx$'
unique_key: qualification_key
ignored_headers: [板块, 英文名称, 注册地址, A股代码, A股简称, A股上市日期, A股总股本, A股流通股本, B股代码,
                  B股简称, B股上市日期, B股总股本, B股流通股本, 地区, 省份, 城市, 所属行业, 公司网址, 未盈利,
                  具有表决权差异安排, 具有协议控制架构]
columns:
  enterprise_name: {type: name, required: true, aliases: [公司全称]}
  qualification: {type: qualification, default: 上市公司}
"""


def site_with(tmp_path, monkeypatch, files: dict[str, str]) -> Path:
    site = tmp_path / "site"
    (site / "layouts").mkdir(parents=True)
    for name, text in files.items():
        (site / "layouts" / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("SOCORG_SITE", str(site))
    return site


def test_a_site_layout_loads_the_stock_exchanges_own_list(shared, tmp_path, monkeypatch):
    site_with(tmp_path, monkeypatch, {"qualifications_szse.yaml": SZSE})
    check_site()
    assert [x.name for x in load_layouts("qualifications")] == ["qualifications", "qualifications_szse"]
    exports, data = tmp_path / "exports", tmp_path / "data"
    for source, name, file in [
        ("registry", "registry_320500_20251031.csv", GOOD_REGISTRY),
        ("qualifications", "szse_a_share_list.xlsx", shared / "data/real-listings/szse_a_share_list.xlsx"),
    ]:
        (exports / source / DATE.isoformat()).mkdir(parents=True)
        shutil.copy(file, exports / source / DATE.isoformat() / name)
    land_night(str(exports), DATE, data)
    [load] = [x for x in parse_night(data, DATE) if x.source == "qualifications"]
    assert (load.rows_read, load.rows_loaded, load.rows_quarantined) == (2875, 2875, 0)
    assert load.unknown_headers == []


def test_without_a_site_the_list_matches_no_layout(monkeypatch):
    monkeypatch.delenv("SOCORG_SITE", raising=False)
    assert [x.name for x in load_layouts("qualifications")] == ["qualifications"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"registry_x.yaml": "source: registry\ncolumns: [a\n"}, r"registry_x.yaml:3: not valid YAML"),
        (
            {"registry_x.yaml": HEAD + "  credit_code: {type: code}\n"},
            r"registry_x.yaml:4: column credit_code has type 'code'; expected one of text, name",
        ),
        (
            {"registry_x.yaml": HEAD + "  fax: {type: text}\n"},
            r"registry_x.yaml:3: registry_x.yaml: a registry layout may only use the columns of registry",
        ),
        ({"members.yaml": "source: member\n"}, r"members.yaml:1: expected a layout with `source:` one of"),
        (
            {"hangzhou.yaml": "source: registry\n"},
            r"hangzhou.yaml:1: a registry layout is named registry.yaml or",
        ),
    ],
)
def test_a_broken_site_file_is_named_with_its_line(tmp_path, monkeypatch, files, message):
    site_with(tmp_path, monkeypatch, files)
    with pytest.raises(SiteError, match=message):
        check_site()


def test_the_site_is_part_of_the_code_fingerprint(tmp_path, monkeypatch):
    monkeypatch.delenv("SOCORG_SITE", raising=False)
    bare = code_fingerprint()
    site = site_with(tmp_path, monkeypatch, {"qualifications_szse.yaml": SZSE})
    with_site = code_fingerprint()
    (site / "layouts" / "qualifications_szse.yaml").write_text(SZSE.replace("公司全称]", "公司全称, 名称]"))
    assert len({bare, with_site, code_fingerprint()}) == 3


def test_socorg_run_stops_on_a_broken_site_before_landing(tmp_path):
    site = tmp_path / "site"
    (site / "layouts").mkdir(parents=True)
    (site / "layouts" / "registry_x.yaml").write_text("source: registry\ncolumns: [a\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "ingest.cli", "run", "--date", "2025-10-31", "--site", str(site),
         "--data", str(tmp_path / "data"), "--exports", str(tmp_path / "exports")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"{site / 'layouts' / 'registry_x.yaml'}:3: not valid YAML" in done.stderr
    assert not (tmp_path / "data" / "landing").exists()


AMAC = """\
# The Asset Management Association of China's member lists, one per category, as it publishes them:
# no credit codes, a membership class (协会会员) per institution, blank = listed but not a member.
source: membership
description: AMAC member institutions of one category, with their membership class
file_pattern: '^membership_(?P<association_credit_code>[0-9A-Z]{18})_(?P<file_date>\\d{8})_amac_[a-z]+\\.csv$'
unique_key: member_key
ignored_headers: [序号, 成立时间, 成立日期, 业务核准时间, 网址, 官方网站, 联系地址, 注册地,
                  取得托管业务资格时间, 首次在中国证监会备案时间, 电话, 客服电话]
columns:
  member_name: {type: name, required: true, aliases: [基金管理公司名称, 基金销售机构名称, 托管人名称,
                律师事务所名称, 会计师事务所名称, 基金评价机构名称, 信息技术服务机构名称,
                支付结算机构名称, 机构名称]}
  role: {type: member_role, aliases: [协会会员]}
"""
# ../shared/data/real-members/README.md: rows and membership classes of each list (its "blank 1" of
# jjglgs.csv is not in the file: all 98 rows say 会员). jjxsjg.csv lists 和讯信息科技有限公司 and
# 浙江同花顺基金销售有限公司 twice each (联席会员): the repeats are quarantined as duplicates.
AMAC_LISTS = {
    "jjglgs": (98, {"member": 98}),
    "jjxsjg": (366, {"associate_member": 242, "member": 91, "observer_member": 1, None: 30}),
    "jjtgr": (42, {None: 42}),
    "lssws": (18, {"associate_member": 18}),
    "jjpjjg": (10, {"associate_member": 10}),
    "xxjsxtfwjg": (10, {"associate_member": 10}),
    "zfjsjg": (10, {"associate_member": 6, None: 4}),
    "hjsws": (4, {"associate_member": 4}),
    "zcglljg": (4, {"special_member": 4}),
}


@pytest.mark.parametrize("name", sorted(AMAC_LISTS))
def test_a_site_layout_loads_a_national_associations_real_member_lists(name, shared, tmp_path, monkeypatch):
    import duckdb

    from ingest.parse.files import parse_file
    from ingest.rules.layouts import layout_for

    site_with(tmp_path, monkeypatch, {"membership_amac.yaml": AMAC})
    file_name = f"membership_{make_code('5', '1', '100000', random.Random(1))}_20181231_amac_{name}.csv"
    layout = layout_for("membership", file_name)
    assert layout.name == "membership_amac"
    out = tmp_path / "out"
    load = parse_file(shared / "data/real-members" / f"{name}.csv", file_name, layout, DATE, out / "raw",
                      out / "quarantine", "-")  # fmt: skip
    rows, classes = AMAC_LISTS[name]
    repeats = 2 if name == "jjxsjg" else 0
    assert (load.rows_read, load.rows_loaded, load.rows_quarantined) == (rows, rows - repeats, repeats)
    assert load.quarantine_reasons == ({"duplicate_member_key": 2} if repeats else {})
    loaded = duckdb.sql(
        f"select role, count(*) from read_parquet('{out}/raw/*.parquet') group by all"
    ).fetchall()
    assert dict(loaded) == classes


TAXONOMY_HEADER = "city_code,cluster_code,cluster_name,category,sector,is_illustrative\n"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "cluster_taxonomy.csv",
            TAXONOMY_HEADER + "330100,330100-01,数字安防,leading_industry,电子信息,false\n"
            "330199,330199-01,不存在,leading_industry,电子信息,false\n",
            r"cluster_taxonomy.csv:3: city_code '330199' is not a city of divisions.csv",
        ),
        (
            "cluster_taxonomy.csv",
            "city,cluster\n330100,x\n",
            r"cluster_taxonomy.csv:1: columns city, cluster; expected",
        ),
        ("clusters.csv", TAXONOMY_HEADER, r"clusters.csv:1: not a reference table socorg knows"),
    ],
)
def test_a_broken_site_reference_table_is_named_with_its_line(tmp_path, monkeypatch, name, text, message):
    site = site_with(tmp_path, monkeypatch, {})
    (site / "seeds").mkdir()
    (site / "seeds" / name).write_text(text, encoding="utf-8")
    with pytest.raises(SiteError, match=message):
        check_site()


def test_socorg_inspect_reads_the_real_files_through_the_site(shared, tmp_path, monkeypatch, capsys):
    from ingest.cli import main

    site = site_with(tmp_path, monkeypatch, {"qualifications_szse.yaml": SZSE, "membership_amac.yaml": AMAC})
    monkeypatch.delenv("SOCORG_SITE")  # given as --site, as a user would
    szse = shared / "data/real-listings/szse_a_share_list.xlsx"
    assert main(["inspect", str(szse), "--source", "qualifications", "--site", str(site)]) == 0
    out = capsys.readouterr().out
    assert "layout:     qualifications_szse" in out and "公司全称 → enterprise_name" in out
    assert "rows:       2875 read, 2875 would load, 0 quarantined" in out
    amac = tmp_path / f"membership_{make_code('5', '1', '100000', random.Random(1))}_20181231_amac_jjxsjg.csv"
    shutil.copy(shared / "data/real-members/jjxsjg.csv", amac)
    assert main(["inspect", str(amac), "--site", str(site)]) == 0
    out = capsys.readouterr().out
    assert "rows:       366 read, 364 would load, 2 quarantined" in out
    assert "2 duplicate_member_key: row 185" in out


def test_the_sites_divisions_are_the_ones_the_quality_gate_knows(tmp_path, monkeypatch):
    from ingest.validate.expectations import known_divisions

    site = site_with(tmp_path, monkeypatch, {})
    (site / "seeds").mkdir()
    bundled = (Path(__file__).resolve().parents[3] / "dbt_project/seeds/divisions.csv").read_text(
        encoding="utf-8"
    )
    (site / "seeds" / "divisions.csv").write_text(
        bundled + "330199,新区,city,330199,330000,false\n", encoding="utf-8"
    )
    check_site()
    assert "330199" in known_divisions()
    monkeypatch.delenv("SOCORG_SITE")
    assert "330199" not in known_divisions()


def test_a_site_reference_table_written_before_dates_existed_still_loads(tmp_path, monkeypatch):
    """A site folder from before valid_from/valid_until: its rows hold from the beginning, and an
    exhibition point's designated_year (the column they replaced) gives its valid_from."""
    from ingest.rules.site import dbt_project_for

    site = tmp_path / "site"
    (site / "seeds").mkdir(parents=True)
    (site / "seeds" / "cluster_associations.csv").write_text(
        "city_code,cluster_code,association_credit_code,association_name,is_illustrative\n"
        "440300,440300-S01,51440300MJL1234567,深圳市甲协会,false\n",
        encoding="utf-8",
    )
    (site / "seeds" / "exhibition_points.csv").write_text(
        "city_code,point_no,org_name,credit_code,designated_year,point_type,has_mediation_room,is_illustrative\n"
        "440300,1,深圳市乙中心,5244030030868922XQ,2021,first_batch,false,false\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SOCORG_SITE", str(site))
    check_site()
    seeds = dbt_project_for(tmp_path / "data") / "seeds"
    assert (seeds / "cluster_associations.csv").read_text(encoding="utf-8").splitlines() == [
        "city_code,cluster_code,association_credit_code,association_name,valid_from,valid_until,is_illustrative",
        "440300,440300-S01,51440300MJL1234567,深圳市甲协会,,,false",
    ]
    assert (seeds / "exhibition_points.csv").read_text(encoding="utf-8").splitlines()[1] == (
        "440300,1,深圳市乙中心,5244030030868922XQ,first_batch,false,2021-01-01,,false"
    )
    (site / "seeds" / "exhibition_points.csv").write_text(
        "city_code,point_no,org_name,credit_code,opened_on,point_type,has_mediation_room,is_illustrative\n",
        encoding="utf-8",
    )
    with pytest.raises(
        SiteError,
        match=r"exhibition_points.csv:1: columns .*opened_on.* \(valid_from, valid_until may be left out",
    ):
        check_site()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (",,2023/02/01,,false\n", r"exhibition_points.csv:2: valid_from '2023/02/01' is not a date"),
        (",,2023-02-01,2022-01-01,false\n", r":2: valid_until 2022-01-01 is before valid_from 2023-02-01"),
        (
            ",,2021-09-01,,false\n,,2022-07-22,,false\n",
            r"exhibition_points.csv:3: credit_code 5244030030868922XQ holds from 2022-07-22, while line 2 "
            r"still holds it \(until now\)",
        ),
    ],
)
def test_a_site_reference_tables_dates_are_checked_with_the_line(tmp_path, monkeypatch, text, message):
    site = tmp_path / "site"
    (site / "seeds").mkdir(parents=True)
    head = "city_code,point_no,org_name,credit_code,point_type,has_mediation_room,"
    head += "valid_from,valid_until,is_illustrative\n"
    row = "440300,1,深圳市乙中心,5244030030868922XQ,first_batch,false,"
    rows = "".join(row + line[2:] for line in text.splitlines(keepends=True))
    (site / "seeds" / "exhibition_points.csv").write_text(head + rows, encoding="utf-8")
    monkeypatch.setenv("SOCORG_SITE", str(site))
    with pytest.raises(SiteError, match=message):
        check_site()
