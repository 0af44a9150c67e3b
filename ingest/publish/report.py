"""The night report for people: `publish/reports/<date>/index.html`, per city, with static SVG charts."""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

from ingest.common.sql import sql_path
from ingest.publish.catalog import STYLE as CATALOG_STYLE
from ingest.publish.figures import bilingual, format_figure, plain

ORG_TYPES = {"social_group": "社会团体", "social_service_org": "社会服务机构", "foundation": "基金会"}
QUALIFICATIONS = {  # clusters' count columns: 中文 · English
    "listed_count": "上市公司 · listed",
    "leading_count": "龙头企业 · leading",
    "srdi_count": "专精特新 · SRDI",
    "high_tech_count": "高新技术 · high-tech",
    "top100_private_count": "民营百强 · top-100",
}
CHANGE_TYPES = {
    "registered": "新登记 · registered",
    "deregistered": "注销 · deregistered",
    "revoked": "撤销 · revoked",
    "reinstated": "恢复 · reinstated",
    "renamed": "更名 · renamed",
    "type_changed": "类型变更 · type changed",
    "grade_gained": "获评等级 · grade gained",
    "grade_raised": "等级提升 · grade raised",
    "grade_lowered": "等级下降 · grade lowered",
    "grade_expired": "等级到期 · grade expired",
    "grade_removed": "等级取消 · grade removed",
    "credit_code_assigned": "赋统一社会信用代码 · credit code assigned",
    "identifier_changed": "标识变更 · identifier changed",
}
CHANGES_LISTED = 10  # the night's changes of a city shown one by one; the rest counted
CHART_WIDTH = 520
CHART_PADDING = {"left": 30, "top": 5, "right": 90, "bottom": 5}
STYLE = (
    CATALOG_STYLE
    + """
section.city { border-top: 3px solid #345; margin-top: 2rem; }
figure { margin: 1rem 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
.en { color: #555; font-weight: normal; }
"""
)


def month_window(export_date: dt.date) -> dt.date:
    """The first day of the 12 months a report's monthly chart covers: the night's month and 11 before."""
    month = export_date.year * 12 + export_date.month - 1 - 11
    return dt.date(month // 12, month % 12 + 1, 1)


def read_night(publish: Path, export_date: dt.date, tonight: dict[str, Path]) -> dict:
    """The datasets the report shows, as pandas DataFrames (city-sized: a few thousand rows): tonight's
    staged files, and for the charts over time the nights published before it."""
    import duckdb

    def night(dataset: str, where: str = "true") -> object:
        return duckdb.sql(f"select * from read_parquet({sql_path(tonight[dataset])}) where {where}").df()

    def kept(dataset: str, since: dt.date | None = None) -> object:
        """Tonight's rows and those of the nights published before it (since `since`)."""
        files = [tonight[dataset]]
        for path in sorted((publish / dataset).glob("snapshot_date=*/*.parquet")):
            night_date = dt.date.fromisoformat(path.parent.name.removeprefix("snapshot_date="))
            if night_date < export_date and (since is None or night_date >= since):
                files.append(path)
        listed = ", ".join(sql_path(f) for f in files)
        return duckdb.sql(f"select * from read_parquet([{listed}], union_by_name = true)").df()

    start = month_window(export_date).isoformat()
    return {
        "city_summary": night("city_summary"),
        "city_history": kept("city_summary"),
        "clusters": night("clusters"),
        "registry_stats": night("registry_stats"),
        "registered": night("organizations", f"registered_on >= '{start}'"),
        "changes": night("registry_changes"),
        "changes_kept": kept("registry_changes", month_window(export_date)),
        "loads": night("loads"),
        "quarantine_reasons": night("quarantine_reasons"),
        "quality": night("quality"),
    }


def write_reports(
    staging: Path, export_date: dt.date, docs: dict[str, dict], publish: Path, tonight: dict[str, Path]
) -> list[dict]:
    """Write the night's page and workbook into `staging/reports/<date>/`, from tonight's staged datasets
    (`tonight`: dataset → staged Parquet) and the nights already published; their index entries (path,
    bytes, sha256). install_reports moves them into publish/ with the Parquet."""
    from ingest.publish.release import file_record
    from ingest.publish.workbook import write_workbook

    date = export_date.isoformat()
    frames = read_night(publish, export_date, tonight)
    folder = staging / "reports" / date
    folder.mkdir(parents=True)
    workbook = write_workbook(folder / f"socorg_{date}.xlsx", frames, docs, export_date)
    page = folder / "index.html"
    page.write_text(render_report(frames, export_date, docs, workbook.name), encoding="utf-8")
    return [{**file_record(p), "path": f"reports/{date}/{p.name}"} for p in (page, workbook)]


def install_reports(staging: Path, publish: Path, export_date: dt.date) -> None:
    """Move the staged report folder into `publish/reports/<date>/` (replacing a previous run's)."""
    import shutil

    final = report_dir(publish, export_date)
    if final.exists():
        shutil.rmtree(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    (staging / "reports" / export_date.isoformat()).replace(final)


def write_reports_index(publish: Path) -> Path:
    """`publish/reports/index.html`: every release's report and workbook, newest first, the latest marked
    — the page to bookmark."""
    from ingest.common.files import read_json, write_atomically
    from ingest.publish.release import latest_file, releases

    latest = read_json(latest_file(publish), default={}).get("snapshot_date")
    items = []
    for date in reversed(releases(publish)):
        if not (report_dir(publish, date) / "index.html").exists():
            continue  # a release written before reports were
        mark = ' <strong class="latest">最新 · latest</strong>' if date == latest else ""
        items.append(
            f'<li><a href="{date}/index.html">{date}</a> · '
            f'<a href="{date}/socorg_{date}.xlsx">socorg_{date}.xlsx</a>{mark}</li>'
        )
    page = "\n".join(
        [
            "<!doctype html>",
            '<html lang="zh-CN"><head><meta charset="utf-8">',
            "<title>社会组织数据夜报 · socorg night reports</title>",
            f"<style>{STYLE}</style></head><body>",
            f"<h1>{_caption('社会组织数据夜报', 'socorg night reports')}</h1>",
            f'<ul class="reports">{"".join(items)}</ul>' if items else "<p>无 · none yet</p>",
            "</body></html>",
        ]
    )
    path = publish / "reports" / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(path, lambda tmp: tmp.write_text(page + "\n", encoding="utf-8"))


def report_dir(publish: Path, export_date: dt.date | str) -> Path:
    """`publish/reports/<date>/`: the night's page and workbook."""
    date = export_date if isinstance(export_date, str) else export_date.isoformat()
    return publish / "reports" / date


def render_report(frames: dict, export_date: dt.date, docs: dict[str, dict], workbook: str) -> str:
    """The page's HTML: a section per city, then the night's quality."""
    date = export_date.isoformat()
    summary = frames["city_summary"].sort_values("city_code")
    parts = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>社会组织数据夜报 {date} · socorg night report</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<h1>{_caption("社会组织数据夜报", "socorg night report")} <span id="night">{date}</span></h1>',
        f'<p>数据表格 · Spreadsheet: <a href="{escape(workbook)}">{escape(workbook)}</a>. '
        f'发布文件 · Release files: <a href="../../releases/{date}/index.json">index.json</a>. '
        f'数据集说明 · Dataset catalog: <a href="../../../docs/index.html">docs/index.html</a>.</p>',
        '<nav><ul class="cities">',
        *(
            f'<li><a href="#city-{escape(r.city_code)}">{escape(r.city_name)}</a> '
            f'<span class="code">{escape(r.city_code)}</span></li>'
            for r in summary.itertuples()
        ),
        "</ul></nav>",
        *(_city_section(frames, row, docs) for row in summary.to_dict("records")),
        _quality_section(frames),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _caption(zh: str, en: str) -> str:
    """Chinese first, English beside it."""
    return f'{escape(zh)} <span class="en">· {escape(en)}</span>'


def _figure_cell(dataset: str, key: str, column: str, value) -> str:
    """A figure with where it comes from, so that a reader (and the tests) can trace it to a dataset."""
    return (
        f'<td class="num" data-dataset="{dataset}" data-key="{escape(key)}" data-column="{escape(column)}">'
        f"{escape(format_figure(value))}</td>"
    )


def _city_section(frames: dict, city: dict, docs: dict[str, dict]) -> str:
    code = city["city_code"]
    columns = docs.get("city_summary", {}).get("columns", {})
    shown = [c for c in city if c not in ("city_code", "city_name", "snapshot_date")]
    rows = "".join(
        f'<tr><td>{escape(zh)} <span class="en">· {escape(en)}</span></td>'
        f"{_figure_cell('city_summary', code, c, plain(city[c]))}</tr>"
        for c in shown
        for zh, en in [bilingual(columns.get(c, c))]
    )
    return "\n".join(
        [
            f'<section class="city" id="city-{escape(code)}">',
            f'<h2>{escape(city["city_name"])} <span class="code">{escape(code)}</span></h2>',
            f"<table><tr><th>指标 · figure</th><th>{escape(city['snapshot_date'].isoformat()[:10])}</th></tr>"
            f"{rows}</table>",
            _org_types_chart(frames["city_history"], code),
            _registrations_chart(frames, code),
            _clusters_chart(frames["clusters"], code),
            _district_chart(frames["registry_stats"], code),
            _association_shares_chart(city),
            _changes_table(frames["changes"], code),
            "</section>",
        ]
    )


def _text(value) -> str:
    """A cell as text for the page: empty for null (pandas gives NaN for a null text)."""
    cell = plain(value)
    return "" if cell is None else str(cell)


def _svg(chart, chart_id: str, caption: str) -> str:
    """A chart rendered to static SVG now, with its caption: nothing is fetched when the page opens."""
    import vl_convert

    # Room around the chart: vl-convert measures text with its own fonts, narrower than the CJK font a
    # browser draws labels with, and the SVG would clip the end of a legend or axis label.
    svg = vl_convert.vegalite_to_svg(chart.properties(padding=CHART_PADDING).to_json())
    return f'<figure class="chart" id="{escape(chart_id)}"><figcaption>{caption}</figcaption>{svg}</figure>'


def _empty(chart_id: str, caption: str, why: str) -> str:
    return (
        f'<figure class="chart empty" id="{escape(chart_id)}">'
        f"<figcaption>{caption}</figcaption><p>{why}</p></figure>"
    )


def _org_types_chart(history, code: str) -> str:
    import altair as alt
    import pandas as pd

    caption = _caption("登记的社会组织（按类型，各夜）", "registered organizations by type, night by night")
    rows = history[history.city_code == code]
    long = pd.DataFrame(
        [
            {
                "夜 night": r.snapshot_date.isoformat()[:10],
                "类型 type": zh,
                "数量 count": int(getattr(r, f"{t}_count")),
            }
            for r in rows.itertuples()
            for t, zh in ORG_TYPES.items()
        ]
    )
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("夜 night:O"),
            y=alt.Y("数量 count:Q"),
            color=alt.Color("类型 type:N", sort=list(ORG_TYPES.values()), legend=alt.Legend(labelLimit=300)),
            tooltip=["夜 night", "类型 type", "数量 count"],
        )
        .properties(width=CHART_WIDTH, height=180)
    )
    return _svg(chart, f"org-types-{code}", caption)


def _registrations_chart(frames: dict, code: str) -> str:
    import altair as alt
    import pandas as pd

    caption = _caption("每月新登记与注销", "registrations and deregistrations per month")
    registered = frames["registered"]
    registered = registered[registered.city_code == code]
    changes = frames["changes_kept"]
    gone = changes[(changes.city_code == code) & changes.change_type.isin(["deregistered", "revoked"])]
    counts = [
        *({"月 month": m, "类别 kind": "新登记 registered", "数量 count": int(n)}
          for m, n in registered.registered_on.map(lambda d: d.isoformat()[:7]).value_counts().items()),
        *({"月 month": m, "类别 kind": "注销撤销 deregistered", "数量 count": int(n)}
          for m, n in gone.snapshot_date.map(lambda d: d.isoformat()[:7]).value_counts().items()),
    ]  # fmt: skip
    if not counts:
        return _empty(f"registrations-{code}", caption, "近12个月无登记变动 · none in the last 12 months")
    chart = (
        alt.Chart(pd.DataFrame(counts))
        .mark_bar()
        .encode(
            x=alt.X("月 month:O"),
            xOffset="类别 kind:N",
            y=alt.Y("数量 count:Q"),
            color=alt.Color("类别 kind:N", legend=alt.Legend(labelLimit=300)),
            tooltip=["月 month", "类别 kind", "数量 count"],
        )
        .properties(width=CHART_WIDTH, height=180)
    )
    return _svg(chart, f"registrations-{code}", caption)


def _clusters_chart(clusters, code: str) -> str:
    import altair as alt
    import pandas as pd

    caption = (
        "产业集群会员企业（按资质；● 有对应协会，○ 无） "
        '<span class="en">· member enterprises of each cluster by qualification; ● has a designated '
        "association, ○ none</span>"
    )
    rows = clusters[clusters.city_code == code].sort_values("cluster_code")
    if rows.empty:
        return _empty(f"clusters-{code}", caption, "无产业集群 · no clusters")
    covered = int(rows.has_association.sum())
    long = pd.DataFrame(
        [
            {
                "集群 cluster": f"{'●' if r.has_association else '○'} {r.cluster_name}",
                "资质 qualification": label,
                "企业数 enterprises": int(getattr(r, column)),
            }
            for r in rows.itertuples()
            for column, label in QUALIFICATIONS.items()
        ]
    )
    order = [f"{'●' if r.has_association else '○'} {r.cluster_name}" for r in rows.itertuples()]
    # Side by side, not stacked: an enterprise may hold several qualifications.
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("集群 cluster:N", sort=order),
            yOffset=alt.YOffset("资质 qualification:N", sort=list(QUALIFICATIONS.values())),
            x=alt.X("企业数 enterprises:Q"),
            color=alt.Color(
                "资质 qualification:N", sort=list(QUALIFICATIONS.values()), legend=alt.Legend(labelLimit=300)
            ),
            tooltip=["集群 cluster", "资质 qualification", "企业数 enterprises"],
        )
        .properties(width=CHART_WIDTH, height=alt.Step(4))
    )
    coverage = (
        f'<p class="coverage">{covered} / {len(rows)} 个集群有对应协会 '
        f'<span class="en">· clusters with a designated association</span></p>'
    )
    return _svg(chart, f"clusters-{code}", caption) + coverage


def _district_chart(stats, code: str) -> str:
    import altair as alt

    caption = _caption("各区县3A及以上社会组织占比", "share graded 3A or above, by district")
    rows = stats[stats.city_code == code]
    by_district = rows.groupby("district_name", as_index=False)[["active_count", "high_grade_count"]].sum()
    by_district = by_district[by_district.active_count > 0]
    if by_district.empty:
        return _empty(f"districts-{code}", caption, "无在册社会组织 · no active organizations")
    by_district["占比 share"] = by_district.high_grade_count / by_district.active_count
    by_district = by_district.rename(columns={"district_name": "区县 district"})
    chart = (
        alt.Chart(by_district)
        .mark_bar()
        .encode(
            y=alt.Y("区县 district:N", sort="-x"),
            x=alt.X("占比 share:Q", axis=alt.Axis(format="%")),
            tooltip=["区县 district", alt.Tooltip("占比 share:Q", format=".1%")],
        )
        .properties(width=CHART_WIDTH, height=18 * len(by_district))
    )
    return _svg(chart, f"districts-{code}", caption)


def _association_shares_chart(city: dict) -> str:
    import altair as alt
    import pandas as pd

    caption = _caption("集群协会：获政府购买服务与3A及以上占比", "cluster associations funded and graded 3A+")
    code = city["city_code"]
    shares = [
        (label, plain(city.get(column)))
        for label, column in (
            ("获政府购买服务 funded", "funded_cluster_association_share"),
            ("3A及以上 high grade", "high_grade_cluster_association_share"),
        )
    ]
    known = [{"指标 figure": label, "占比 share": share} for label, share in shares if share is not None]
    if not known:
        return _empty(f"associations-{code}", caption, "无集群协会 · no cluster associations")
    chart = (
        alt.Chart(pd.DataFrame(known))
        .mark_bar()
        .encode(
            y=alt.Y("指标 figure:N", title=None),
            x=alt.X("占比 share:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            tooltip=["指标 figure", alt.Tooltip("占比 share:Q", format=".1%")],
        )
        .properties(width=CHART_WIDTH, height=60)
    )
    return _svg(chart, f"associations-{code}", caption)


def _changes_table(changes, code: str) -> str:
    rows = changes[changes.city_code == code]
    title = '<h3>今夜登记变动 <span class="en">· the night\'s registry changes</span></h3>'
    if rows.empty:
        return title + "<p>无变动（首个快照，或无变化） · none (the first night, or nothing changed)</p>"
    counts = rows.change_type.value_counts()
    head = "".join(
        f"<tr><td>{escape(CHANGE_TYPES.get(kind, kind))}</td>"
        f"{_figure_cell('registry_changes', code, kind, int(n))}</tr>"
        for kind, n in sorted(counts.items())
    )
    listed = rows.sort_values(["change_type", "org_id"]).head(CHANGES_LISTED)
    detail = "".join(
        f"<tr><td>{escape(CHANGE_TYPES.get(r.change_type, r.change_type))}</td>"
        f"<td>{escape(_text(r.org_name))}</td>"
        f"<td>{escape(_text(r.value_before))}</td><td>{escape(_text(r.value_after))}</td></tr>"
        for r in listed.itertuples()
    )
    more = len(rows) - len(listed)
    return (
        f"{title}<table><tr><th>变动 · change</th><th>数量 · count</th></tr>{head}</table>"
        f"<table><tr><th>变动 · change</th><th>社会组织 · organization</th><th>变更前 · before</th>"
        f"<th>变更后 · after</th></tr>{detail}</table>"
        + (f"<p>另有 {more} 项 · and {more} more (registry_changes)</p>" if more > 0 else "")
    )


def _table(headers: list[str], rows: str) -> str:
    """A table with bilingual headers, or 无 · none without rows."""
    if not rows:
        return "<p>无 · none</p>"
    return "<table><tr>" + "".join(f"<th>{h}</th>" for h in headers) + f"</tr>{rows}</table>"


def _quality_section(frames: dict) -> str:
    counted = ("rows_read", "rows_loaded", "rows_quarantined")
    by_source = frames["loads"].groupby("source", as_index=False)[list(counted)].sum()
    rows = "".join(
        f"<tr><td>{escape(r.source)}</td>"
        + "".join(_figure_cell("loads", r.source, c, int(getattr(r, c))) for c in counted)
        + "</tr>"
        for r in by_source.sort_values("source").itertuples()
    )
    reasons = frames["quarantine_reasons"]
    reasons = reasons.groupby(["source", "reason"], as_index=False)["quarantined_rows"].sum()
    reason_rows = "".join(
        f"<tr><td>{escape(r.source)}</td><td>{escape(r.reason)}</td>"
        f"{_figure_cell('quarantine_reasons', r.source, r.reason, int(r.quarantined_rows))}</tr>"
        for r in reasons.sort_values(["source", "reason"]).itertuples()
    )
    quality = frames["quality"]
    failed = quality[~quality.success.astype(bool)].sort_values(["source", "expectation", "column_name"])
    failed_rows = "".join(
        f"<tr><td>{escape(r.source)}</td><td>{escape(r.expectation)}</td><td>{escape(_text(r.column_name))}</td>"
        f'<td>{escape(r.severity)}</td><td class="num">{int(r.unexpected_count):,}</td></tr>'
        for r in failed.itertuples()
    )
    return "\n".join(
        [
            '<section class="quality" id="quality">',
            '<h2>数据质量 <span class="en">· quality of the night\'s exports</span></h2>',
            _table(["来源 · source", "读取行 · rows read", "入库行 · loaded", "隔离行 · quarantined"], rows),
            '<h3>隔离原因 <span class="en">· quarantined rows by reason</span></h3>',
            _table(["来源 · source", "原因 · reason", "行数 · rows"], reason_rows),
            '<h3>未通过的检查（警告） <span class="en">· expectations failed (warnings)</span></h3>',
            _table(
                ["来源 · source", "检查 · expectation", "列 · column", "级别 · severity", "行数 · rows"],
                failed_rows,
            ),
            "</section>",
        ]
    )
