"""The night report: the page rendered in headless Chromium, and the workbook read back, against the data."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import re
import subprocess
import threading
from collections import Counter
from html import unescape
from pathlib import Path

import duckdb
import pytest
from runner import FIRST_NIGHT

from ingest.publish.datasets import dataset_path
from ingest.publish.figures import format_figure

pytestmark = pytest.mark.e2e
NIGHT = dt.date.fromisoformat(FIRST_NIGHT)
FIGURE = re.compile(
    r'<td class="num" data-dataset="([^"]+)" data-key="([^"]+)" data-column="([^"]+)">([^<]*)</td>'
)


def rows(data: Path, dataset: str) -> list[dict]:
    rel = duckdb.sql(f"select * from read_parquet('{dataset_path(data / 'publish', dataset, NIGHT)}')")
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def dump_dom(chromium: str, url: str) -> str:
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def page(first_night, chromium) -> dict:
    folder = first_night["data"] / "publish" / "reports" / FIRST_NIGHT
    return {"folder": folder, "dom": dump_dom(chromium, (folder / "index.html").as_uri())}


def test_the_page_shows_each_city_by_name_with_non_empty_charts(page, first_night):
    dom = page["dom"]
    assert '<span id="night">2023-10-31</span>' in dom
    for code, name in (("320500", "苏州市"), ("440300", "深圳市")):
        section = dom[dom.index(f'id="city-{code}"') :]
        section = section[: section.index("</section>")]
        assert f"<h2>{name} " in section
        charts = re.findall(r'<figure class="chart[^"]*" id="([^"]+)">(.*?)</figure>', section, re.S)
        assert [c for c, _ in charts] == [
            f"{kind}-{code}"
            for kind in ("years", "org-types", "registrations", "clusters", "districts", "associations")
        ]
        # One night is one year: the chart by year says so rather than drawing a single bar group.
        assert f'<figure class="chart empty" id="years-{code}">' in section
        assert "仅一年的快照 · snapshots of one year only" in section
        for chart_id, body in charts[1:]:
            # Bars drawn, not only axes: the marks' group holds one path per bar.
            marks = body[body.index("rect mark container") :]
            assert marks[: marks.index("</g>")].count("<path") >= 2, chart_id
        # Names, not codes: the districts and the clusters are written in Chinese in the charts.
        districts = {
            r["district_name"] for r in rows(first_night["data"], "registry_stats") if r["city_code"] == code
        }
        assert all(d in section for d in districts)
    assert "吴中区" in dom and "医疗器械" in dom
    # Nothing is fetched from elsewhere when the page opens.
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', dom)


def test_every_figure_on_the_page_is_the_published_one(page, first_night):
    data = first_night["data"]
    expected = {}
    for r in rows(data, "city_summary"):
        for column, value in r.items():
            expected[("city_summary", r["city_code"], column)] = format_figure(value, column)
    for r in rows(data, "city_by_year"):
        for column, value in r.items():
            expected[("city_by_year", f"{r['city_code']}:{r['year']}", column)] = format_figure(value, column)
    loads = Counter()
    for r in rows(data, "loads"):
        for column in ("rows_read", "rows_loaded", "rows_quarantined"):
            loads[(r["source"], column)] += r[column]
    expected.update({("loads", s, c): f"{n:,}" for (s, c), n in loads.items()})
    reasons = Counter()
    for r in rows(data, "quarantine_reasons"):
        reasons[(r["source"], r["reason"])] += r["quarantined_rows"]
    expected.update({("quarantine_reasons", s, c): f"{n:,}" for (s, c), n in reasons.items()})
    shown = {(d, k, c): unescape(v) for d, k, c, v in FIGURE.findall(page["dom"])}
    assert len(shown) > 40
    assert all(shown[key] == expected[key] for key in shown), [k for k in shown if shown[k] != expected[k]]
    assert shown[("city_summary", "320500", "active_org_count")] == "7,724"
    assert shown[("city_summary", "320500", "funded_cluster_association_share")] == "36.0%"
    assert sum(1 for d, *_ in shown if d == "quarantine_reasons") == len(reasons)
    assert shown[("city_by_year", "320500:2023", "active_org_count")] == "7,724"


def test_the_page_renders_to_a_screenshot_and_works_from_a_static_server(page, chromium, tmp_path):
    shot = tmp_path / "report.png"
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1300,3000", f"--screenshot={shot}", (page["folder"] / "index.html").as_uri()],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    publish = page["folder"].parent.parent
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(publish))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/reports/{FIRST_NIGHT}/index.html"
            dom = dump_dom(chromium, url)
        finally:
            server.shutdown()
    assert dom.count("<svg") == page["dom"].count("<svg") >= 10
    assert "苏州市" in dom


def test_the_catalog_links_the_report(first_night):
    catalog = (first_night["data"] / "docs" / "index.html").read_text(encoding="utf-8")
    # The catalog and the docs site's reference say the same of every column: both read the contracts.
    from html import escape

    from ingest.cli.docs import datasets_page
    from ingest.publish.datasets import dataset_contract

    described = dataset_contract("organizations")["columns"]["credit_code"]
    assert escape(described) in catalog and described.split(" 统一")[0] in datasets_page()
    assert f'href="../publish/reports/{FIRST_NIGHT}/index.html"' in catalog
    assert f'href="../publish/reports/{FIRST_NIGHT}/socorg_{FIRST_NIGHT}.xlsx"' in catalog
    assert 'href="../publish/reports/index.html"' in catalog
    every = (first_night["data"] / "publish" / "reports" / "index.html").read_text(encoding="utf-8")
    assert f'<li><a href="{FIRST_NIGHT}/index.html">{FIRST_NIGHT}</a>' in every and "最新 · latest" in every


def test_the_workbook_reads_back_with_the_published_figures(first_night):
    import openpyxl

    path = first_night["data"] / "publish" / "reports" / FIRST_NIGHT / f"socorg_{FIRST_NIGHT}.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "城市概况", "产业集群", "集群协会", "协会信用", "登记变动", "历年城市", "历年集群", "城市以外",
        "数据质量",
    ]  # fmt: skip
    sheet = book["城市概况"]
    assert sheet.freeze_panes == "A3"
    chinese = [c.value for c in sheet[1]]
    english = [c.value for c in sheet[2]]
    assert chinese[:3] == ["城市代码", "城市名称", "社会组织总数"]
    assert english[:3] == ["city_code", "city_name", "active_org_count"]
    widths = {i: d.width for d in sheet.column_dimensions.values() for i in range(d.min, d.max + 1)}
    assert all(widths[c.column] >= len(str(c.value)) for c in sheet[2])  # set to fit, not the default
    published = {r["city_code"]: r for r in rows(first_night["data"], "city_summary")}
    for row in sheet.iter_rows(min_row=3, values_only=True):
        record = dict(zip(english, row, strict=True))
        truth = published[record["city_code"]]
        for column, value in record.items():
            if isinstance(truth[column], dt.date):
                assert value == dt.datetime.combine(truth[column], dt.time()), column  # a date cell
            elif isinstance(truth[column], float):
                assert value == pytest.approx(truth[column]), column
            else:
                assert value == truth[column], column
    assert sheet.cell(3, english.index("active_org_count") + 1).value == 7724  # a number, not text
    share = sheet.cell(3, english.index("funded_cluster_association_share") + 1)
    assert (share.value, share.number_format) == (0.36, "0.0%")
    clusters = book["产业集群"]
    assert clusters.max_row - 2 == len(rows(first_night["data"], "clusters"))
    associations = book["集群协会"]
    assert associations.max_row - 2 == sum(
        r["has_association"] for r in rows(first_night["data"], "clusters")
    )
    standing = book["协会信用"]
    not_in_good_standing = sorted(
        (r["cluster_code"], r["association_standing_reason"])
        for r in rows(first_night["data"], "clusters")
        if r["association_in_good_standing"] is False
    )
    assert (
        sorted((r[1], r[4]) for r in standing.iter_rows(min_row=3, values_only=True)) == not_in_good_standing
    )
    assert len(not_in_good_standing) == sum(
        len(c["standing"]["associations_not_in_good_standing"])
        for c in first_night["truth"]["cities"].values()
    )
    assert book["历年城市"].max_row - 2 == len(rows(first_night["data"], "city_by_year")) == 2
    assert book["历年集群"].max_row - 2 == len(rows(first_night["data"], "cluster_by_year"))
    quality = book["数据质量"]
    assert quality.max_row - 2 == len(rows(first_night["data"], "loads"))


def test_the_page_lists_the_designated_associations_not_in_good_standing_and_why(page, first_night):
    dom = page["dom"]
    section = dom[dom.index('id="associations-not-in-good-standing"') :]
    section = section[: section.index("</section>")]
    clusters = [
        r for r in rows(first_night["data"], "clusters") if r["association_in_good_standing"] is False
    ]
    for city in first_night["truth"]["cities"].values():
        for code in city["standing"]["associations_not_in_good_standing"]:
            assert f"({code}): " in section, code
    assert section.count("<tr>") == len(clusters) + 1  # a row per cluster under the header
    assert "最近一次年检不合格 · failed its last inspection" in section
    assert "列入活动异常名录 · on the abnormal activity list" in section
    assert "failed_last_inspection" not in section  # the rules spelled for readers, not as codes
