"""The night report's page: a section per city (figures, charts, changes), then the night's quality."""

from __future__ import annotations

import datetime as dt
from html import escape

from ingest.publish.catalog import STYLE as CATALOG_STYLE
from ingest.publish.figures import bilingual, caption, format_figure, plain
from ingest.publish.report import charts

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

# The rules organization_standing names in standing_reason, as the report spells them.
STANDING_REASONS = {
    "failed_last_inspection": "最近一次年检不合格 · failed its last inspection",
    "no_part_in_last_inspection": "未参加最近一次年检 · took no part in its last inspection",
    "passed_with_remarks_two_years_running": "连续两年基本合格 · 基本合格 two years running",
    "on_serious_violation_list": "列入严重违法失信名单 · on the serious violation list",
    "on_abnormal_activity_list": "列入活动异常名录 · on the abnormal activity list",
    "not_passed_two_years_running": "连续两年未通过年检（可撤销登记） · not passed two years running",
}

CHANGES_LISTED = 10  # the night's changes of a city shown one by one; the rest counted
# The figures of the table year by year (city_by_year); the seed reports compare these across years.
YEAR_FIGURES = (
    "active_org_count", "registered_in_year", "deregistered_in_year", "cluster_association_count",
    "cluster_member_enterprise_count", "exhibition_point_count",
)  # fmt: skip
PLACEMENTS = {
    "ministry": "不计入任何城市或省份 · counted in no city or province",
    "province": "计入省本级（province_summary） · counted in province_summary",
    "unlisted_division": "按代码前四位计入城市 · counted in the city of its first four digits",
}

STYLE = (
    CATALOG_STYLE
    + """
section.city { border-top: 3px solid #345; margin-top: 2rem; }
figure { margin: 1rem 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
.en { color: #555; font-weight: normal; }
"""
)


def render_report(frames: dict, export_date: dt.date, docs: dict[str, dict], workbook: str) -> str:
    """The page's HTML: a section per city, then the night's quality."""
    date = export_date.isoformat()
    parts = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>社会组织数据夜报 {date} · socorg night report</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<h1>{caption("社会组织数据夜报", "socorg night report")} <span id="night">{date}</span></h1>',
        f'<p>数据表格 · Spreadsheet: <a href="{escape(workbook)}">{escape(workbook)}</a>. '
        f'发布文件 · Release files: <a href="../../releases/{date}/index.json">index.json</a>. '
        f'数据集说明 · Dataset catalog: <a href="../../../docs/index.html">docs/index.html</a>.</p>',
        *(_by_province(frames, docs) if "province_summary" in frames else _by_city(frames, docs)),
        _standing_section(frames["clusters"]),
        _outside_cities_section(frames["registrar_placements"]),
        _quality_section(frames),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _by_city(frames: dict, docs: dict[str, dict]) -> list[str]:
    """A list of the cities, then each city's section."""
    summary = frames["city_summary"].sort_values("city_code")
    return [
        '<nav><ul class="cities">',
        *(
            f'<li><a href="#city-{escape(r.city_code)}">{escape(r.city_name)}</a> '
            f'<span class="code">{escape(r.city_code)}</span></li>'
            for r in summary.itertuples()
        ),
        "</ul></nav>",
        *(_city_section(frames, row, docs) for row in summary.to_dict("records")),
    ]


# A province's table of cities (a night of many cities): these figures of each.
PROVINCE_TABLE = (
    "active_org_count", "social_group_count", "social_service_org_count", "foundation_count",
    "registered_in_year", "cluster_association_count", "cluster_member_enterprise_count",
)  # fmt: skip


def _by_province(frames: dict, docs: dict[str, dict]) -> list[str]:
    """A night of many cities: a list of the provinces, then a section per province — its totals
    (province_summary) and a table of its cities' headline figures (city_summary)."""
    summary = frames["city_summary"].sort_values("city_code")
    provinces = frames["province_summary"].sort_values("province_code")
    columns = docs.get("city_summary", {}).get("columns", {})
    head = "".join(
        f'<th>{escape(zh)} <span class="en">· {escape(en)}</span></th>'
        for c in PROVINCE_TABLE
        for zh, en in [bilingual(columns.get(c, c))]
    )
    sections = []
    for p in provinces.itertuples():
        cities = summary[summary.city_code.str[:2] == p.province_code[:2]]
        rows = "".join(
            f'<tr><td>{escape(c["city_name"])} <span class="code">{escape(c["city_code"])}</span></td>'
            + "".join(_figure_cell("city_summary", c["city_code"], k, plain(c[k])) for k in PROVINCE_TABLE)
            + "</tr>"
            for c in cities.to_dict("records")
        )
        delivered = f"{p.city_count} / {p.expected_city_count}"
        totals = (
            "<table><tr><th>社会组织总数 · active organizations</th>"
            "<th>已报送城市 · cities delivered</th></tr>"
            f"<tr>{_figure_cell('province_summary', p.province_code, 'active_org_count', p.active_org_count)}"
            f'<td class="num">{delivered}</td></tr></table>'
        )
        sections.append(
            f'<section class="city" id="province-{escape(p.province_code)}">'
            f'<h2>{escape(p.province_name)} <span class="code">{escape(p.province_code)}</span></h2>'
            f"{totals}<table><tr><th>城市 · city</th>{head}</tr>{rows}</table></section>"
        )
    nav = "".join(
        f'<li><a href="#province-{escape(p.province_code)}">{escape(p.province_name)}</a></li>'
        for p in provinces.itertuples()
    )
    return [f'<nav><ul class="cities">{nav}</ul></nav>', *sections]


def _figure_cell(dataset: str, key: str, column: str, value) -> str:
    """A figure with where it comes from, so that a reader (and the tests) can trace it to a dataset."""
    return (
        f'<td class="num" data-dataset="{dataset}" data-key="{escape(key)}" data-column="{escape(column)}">'
        f"{escape(format_figure(value, column))}</td>"
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
            _years_table(frames["city_by_year"], code, docs),
            charts.years_chart(frames["city_by_year"], code),
            charts.org_types_chart(frames["city_history"], code),
            charts.registrations_chart(frames, code),
            charts.clusters_chart(frames["clusters"], code),
            charts.district_chart(frames["registry_stats"], code),
            charts.association_shares_chart(city),
            _changes_table(frames["changes"], code),
            "</section>",
        ]
    )


def _years_table(by_year, code: str, docs: dict[str, dict]) -> str:
    """The city's headline figures year by year (each year's last snapshot), from city_by_year."""
    rows = by_year[by_year.city_code == code].sort_values("year")
    columns = docs.get("city_by_year", {}).get("columns", {})
    head = "".join(
        f'<th>{escape(str(r.year))} <span class="en">{escape(r.snapshot_date.isoformat()[:10])}</span></th>'
        for r in rows.itertuples()
    )
    body = "".join(
        f'<tr><td>{escape(zh)} <span class="en">· {escape(en)}</span></td>'
        + "".join(
            _figure_cell("city_by_year", f"{code}:{r['year']}", c, plain(r[c]))
            for r in rows.to_dict("records")
        )
        + "</tr>"
        for c in YEAR_FIGURES
        for zh, en in [bilingual(columns.get(c, c))]
    )
    title = '<h3>历年 <span class="en">· year by year (each year\'s last snapshot)</span></h3>'
    return f"{title}<table><tr><th>指标 · figure</th>{head}</tr>{body}</table>"


def _standing_section(clusters) -> str:
    """The designated associations not in good standing (clusters.association_standing_reason): not
    eligible for grade evaluation, and why."""
    shown = clusters[clusters.association_in_good_standing.eq(False).fillna(False).astype(bool)]
    rows = "".join(
        f"<tr><td>{escape(r.city_code)}</td><td>{escape(_text(r.cluster_name))} "
        f'<span class="code">{escape(r.cluster_code)}</span></td><td>'
        + "<br>".join(escape(_reasons(part)) for part in _text(r.association_standing_reason).split(" | "))
        + "</td></tr>"
        for r in shown.sort_values(["city_code", "cluster_code"]).itertuples()
    )
    return "\n".join(
        [
            '<section class="standing" id="associations-not-in-good-standing">',
            '<h2>信用状况不良的集群协会 <span class="en">· designated associations not in good '
            "standing</span></h2>",
            "<p>不能参加社会组织评估：最近一次年检不合格或未参检、连续两年基本合格、或列入信用名单。 "
            '<span class="en">Not eligible for grade evaluation: failed or took no part in the last '
            "inspection, 基本合格 two years running, or on a credit list (organization_standing).</span></p>",
            _table(["城市 · city", "集群 · cluster", "协会及原因 · association and why"], rows),
            "</section>",
        ]
    )


def _reasons(text: str) -> str:
    """`name (code): rule; rule` with each rule as the report spells it."""
    name, _, rules = text.partition(": ")
    return f"{name}: " + "; ".join(STANDING_REASONS.get(r, r) for r in rules.split("; "))


def _outside_cities_section(placements) -> str:
    """Organizations no city's figures count, by registering authority (registrar_placements)."""
    counted = ("org_count", "active_org_count")
    rows = "".join(
        f'<tr><td>{escape(r.registrar_name)} <span class="code">{escape(r.registrar_code)}</span></td>'
        f"<td>{escape(PLACEMENTS.get(r.placement, r.placement))}"
        + (f" {escape(_text(r.counted_in_city_code))}" if _text(r.counted_in_city_code) else "")
        + "</td>"
        + "".join(
            _figure_cell("registrar_placements", r.registrar_code, c, int(getattr(r, c))) for c in counted
        )
        + "</tr>"
        for r in placements.sort_values("registrar_code").itertuples()
    )
    return "\n".join(
        [
            '<section class="outside" id="outside-cities">',
            '<h2>城市以外的登记 <span class="en">· organizations outside the cities\' figures</span></h2>',
            "<p>由民政部、省本级登记的社会组织不计入任何城市；名单外区县的按代码前四位计入城市。 "
            '<span class="en">Registered by the ministry or by a province itself: in no city\'s figures; '
            "in a county the division list lacks: counted in the city of its first four digits.</span></p>",
            _table(
                ["登记机关 · registrar", "归属 · counted in", "社会组织 · organizations", "正常 · active"],
                rows,
            )
            if rows
            else "<p>无：每个社会组织都计入其所在城市 · none: every organization is in its city's figures"
            "</p>",
            "</section>",
        ]
    )


def _text(value) -> str:
    """A cell as text for the page: empty for null (pandas gives NaN for a null text)."""
    cell = plain(value)
    return "" if cell is None else str(cell)


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
