"""The night report's charts: static SVG drawn with Vega-Altair and rendered offline by vl-convert."""

from __future__ import annotations

from html import escape

from ingest.publish.figures import caption, plain

ORG_TYPES = {"social_group": "社会团体", "social_service_org": "社会服务机构", "foundation": "基金会"}
QUALIFICATIONS = {  # clusters' count columns: 中文 · English
    "listed_count": "上市公司 · listed",
    "leading_count": "龙头企业 · leading",
    "srdi_count": "专精特新 · SRDI",
    "high_tech_count": "高新技术 · high-tech",
    "top100_private_count": "民营百强 · top-100",
}
CHART_WIDTH = 520

CHART_PADDING = {"left": 30, "top": 5, "right": 90, "bottom": 5}


def _svg(chart, chart_id: str, title: str) -> str:
    """A chart rendered to static SVG now, with its caption: nothing is fetched when the page opens."""
    import vl_convert

    # Room around the chart: vl-convert measures text with its own fonts, narrower than the CJK font a
    # browser draws labels with, and the SVG would clip the end of a legend or axis label.
    svg = vl_convert.vegalite_to_svg(chart.properties(padding=CHART_PADDING).to_json())
    return f'<figure class="chart" id="{escape(chart_id)}"><figcaption>{title}</figcaption>{svg}</figure>'


def _empty(chart_id: str, title: str, why: str) -> str:
    return (
        f'<figure class="chart empty" id="{escape(chart_id)}">'
        f"<figcaption>{title}</figcaption><p>{why}</p></figure>"
    )


def org_types_chart(history, code: str) -> str:
    import altair as alt
    import pandas as pd

    title = caption("登记的社会组织（按类型，近期各夜）", "active organizations by type, the recent nights")
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
    return _svg(chart, f"org-types-{code}", title)


def years_chart(by_year, code: str) -> str:
    """Active organizations by type, year by year (each year's last snapshot: city_by_year)."""
    import altair as alt
    import pandas as pd

    title = caption("历年社会组织（按类型，各年末快照）", "active organizations by type, year by year")
    rows = by_year[by_year.city_code == code].sort_values("year")
    if len(rows) < 2:
        return _empty(f"years-{code}", title, "仅一年的快照 · snapshots of one year only")
    long = pd.DataFrame(
        [
            {"年 year": str(r.year), "类型 type": zh, "数量 count": int(getattr(r, f"{t}_count"))}
            for r in rows.itertuples()
            for t, zh in ORG_TYPES.items()
        ]
    )
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("年 year:O"),
            xOffset=alt.XOffset("类型 type:N", sort=list(ORG_TYPES.values())),
            y=alt.Y("数量 count:Q"),
            color=alt.Color("类型 type:N", sort=list(ORG_TYPES.values()), legend=alt.Legend(labelLimit=300)),
            tooltip=["年 year", "类型 type", "数量 count"],
        )
        .properties(width=CHART_WIDTH, height=180)
    )
    return _svg(chart, f"years-{code}", title)


def registrations_chart(frames: dict, code: str) -> str:
    import altair as alt
    import pandas as pd

    title = caption("每月新登记与注销", "registrations and deregistrations per month")
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
        return _empty(f"registrations-{code}", title, "近12个月无登记变动 · none in the last 12 months")
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
    return _svg(chart, f"registrations-{code}", title)


def clusters_chart(clusters, code: str) -> str:
    import altair as alt
    import pandas as pd

    title = (
        "产业集群会员企业（按资质；● 有对应协会，○ 无） "
        '<span class="en">· member enterprises of each cluster by qualification; ● has a designated '
        "association, ○ none</span>"
    )
    rows = clusters[clusters.city_code == code].sort_values("cluster_code")
    if rows.empty:
        return _empty(f"clusters-{code}", title, "无产业集群 · no clusters")
    covered = int(rows.has_association.sum())
    coverage = (
        f'<p class="coverage">{covered} / {len(rows)} 个集群有对应协会 '
        f'<span class="en">· clusters with a designated association</span></p>'
    )
    counted = [  # a count whose source was not delivered tonight is unknown (null): not drawn as 0
        {
            "集群 cluster": f"{'●' if r.has_association else '○'} {r.cluster_name}",
            "资质 qualification": label,
            "企业数 enterprises": count,
        }
        for r in rows.itertuples()
        for column, label in QUALIFICATIONS.items()
        if (count := plain(getattr(r, column))) is not None
    ]
    if not counted:
        why = "会员名单或资质名单未报送 · no member or qualification lists tonight"
        return _empty(f"clusters-{code}", title, why) + coverage
    long = pd.DataFrame(counted)
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
    return _svg(chart, f"clusters-{code}", title) + coverage


def district_chart(stats, code: str) -> str:
    import altair as alt

    title = caption("各区县3A及以上社会组织占比", "share graded 3A or above, by district")
    rows = stats[stats.city_code == code]
    by_district = rows.groupby("district_name", as_index=False)[["active_count", "high_grade_count"]].sum()
    by_district = by_district[by_district.active_count > 0]
    if by_district.empty:
        return _empty(f"districts-{code}", title, "无在册社会组织 · no active organizations")
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
    return _svg(chart, f"districts-{code}", title)


def association_shares_chart(city: dict) -> str:
    import altair as alt
    import pandas as pd

    title = caption("集群协会：获政府购买服务与3A及以上占比", "cluster associations funded and graded 3A+")
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
        return _empty(f"associations-{code}", title, "无集群协会 · no cluster associations")
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
    return _svg(chart, f"associations-{code}", title)
