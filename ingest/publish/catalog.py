"""`data/docs/index.html`: one static page listing every dataset of the latest release and how to read it."""

from __future__ import annotations

from html import escape
from pathlib import Path

from ingest.common.files import read_json, write_atomically
from ingest.common.releases import latest_file
from ingest.publish.datasets import DATASETS
from ingest.publish.figures import format_figure

STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; margin: 2rem auto; max-width: 70rem;
       padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
td, th { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f4f4f4; padding: .5rem; overflow-x: auto; }
section { border-top: 2px solid #ddd; margin-top: 1.5rem; }
.code { color: #666; font-weight: normal; }
.ok { color: #0a6b2d; } .warn { color: #8a5a00; }
"""


def render(publish: Path, docs: dict[str, dict], remote: str | None = None) -> str:
    """The page's HTML for the release latest.json points at: `data/docs/index.html`, or with `remote`
    (the release's URL on object storage, no credentials) the page at its root, read from there."""
    links = "" if remote else "../publish/"  # where the page's links to the release's files start
    latest = read_json(latest_file(publish))  # a release was just published: missing is an error
    folder = (publish / latest["index"]).parent
    index, statistics = read_json(folder / "index.json"), read_json(folder / "statistics.json")
    issues = read_json(folder / "issues.json")["issues"]
    date = latest["snapshot_date"]
    files = {f["dataset"]: f for f in index["files"]}
    warnings = [i for i in issues if i["level"] == "warning"]
    status = (
        f'<span class="ok">passed the quality gate and all dbt tests</span>; '
        f'<span class="warn">{len(warnings)} warnings</span> in '
        f'<a href="{links}releases/{escape(date)}/issues.json">issues.json</a>'
    )
    tools = (
        '<p>Model docs and lineage: <a href="dbt/index.html">dbt docs</a>. '
        'Validation results: <a href="gx/index.html">Great Expectations Data Docs</a>.</p>'
    )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>socorg datasets · 社会组织数据集</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>socorg datasets · 社会组织数据集</h1>",
        f'<p>Latest release: <strong id="latest">{escape(date)}</strong> — {status}. '
        f'Files and hashes: <a href="{links}releases/{escape(date)}/index.json">index.json</a>; '
        f'every release: <a href="{links}versions.json">versions.json</a>; '
        f"for BI tools: <code>{escape(remote + '/' if remote else 'publish/')}marts.duckdb</code>.</p>",
        _report_links(latest, links),
        "" if remote else tools,
        _headline_table(statistics["headline"]["cities"]),
        "<h2>Datasets · 数据集</h2><ul>",
        *(f'<li><a href="#{d}">{d}</a> — {files[d]["rows"]:,} rows</li>' for d in DATASETS if d in files),
        "</ul>",
        *(
            _dataset_section(d, date, files[d], statistics["datasets"][d], docs.get(d, {}), remote)
            for d in DATASETS
            if d in files
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _report_links(latest: dict, links: str) -> str:
    """The night report (page and spreadsheet) of the latest release, for people rather than programs."""
    if "report" not in latest:
        return ""
    return (
        f'<p>Night report · 数据夜报: <a id="report" href="{links}{escape(latest["report"])}">charts and '
        f'tables per city</a>; spreadsheet · 数据表格: <a href="{links}{escape(latest["workbook"])}">'
        f"{escape(latest['workbook'].rsplit('/', 1)[-1])}</a>; every night's: "
        f'<a href="{links}reports/index.html">reports</a>.</p>'
    )


def _headline_table(cities: dict[str, dict]) -> str:
    """Each city's summary figures, one column per city headed by its name and code."""
    if not cities:
        return ""
    codes = sorted(cities)
    figures = [f for f in cities[codes[0]] if f != "city_name"]
    head = "".join(
        f'<th>{escape(str(cities[c].get("city_name") or ""))} <span class="code">{escape(c)}</span></th>'
        for c in codes
    )
    rows = "".join(
        f"<tr><td>{escape(f)}</td>"
        + "".join(f'<td class="num">{escape(format_figure(cities[c][f], f))}</td>' for c in codes)
        + "</tr>"
        for f in figures
    )
    return f"<h2>Headline figures · 主要指标</h2><table><tr><th>figure</th>{head}</tr>{rows}</table>"


def _dataset_section(dataset: str, date: str, entry: dict, stats: dict, doc: dict, remote: str | None) -> str:
    """One dataset: description, grain, rows, columns with types and null shares, how to read it."""
    column_docs = doc.get("columns", {})
    rows = "".join(
        f"<tr><td><code>{escape(c['name'])}</code></td><td>{escape(c['type'])}</td>"
        f'<td class="num">{stats["null_share"].get(c["name"], 0):.1%}</td>'
        f"<td>{escape(column_docs.get(c['name'], ''))}</td></tr>"
        for c in entry["schema"]
    )
    root = f"{remote}/" if remote else "publish/"
    path, every = f"{root}{entry['path']}", f"{root}{dataset}/*/*.parquet"
    where = (
        "Read straight from the bucket (credentials as for the bucket)."
        if remote
        else ("Paths are relative to the data folder.")
    )
    return f"""<section id="{dataset}">
<h3>{escape(dataset)}</h3>
<p>{escape(doc.get("description", ""))}</p>
<p>One row per: <strong>{escape(DATASETS[dataset].grain)}</strong>.
Rows in {escape(date)}: <strong class="rows">{entry["rows"]:,}</strong>.
File: <code>{escape(path)}</code> ({entry["bytes"]:,} bytes, sha256 <code>{entry["sha256"][:16]}…</code>)</p>
<p>{where}</p>
<table><tr><th>column</th><th>type</th><th>null</th><th>description</th></tr>{rows}</table>
<pre>import pandas as pd
df = pd.read_parquet("{escape(path)}")

import polars as pl
df = pl.read_parquet("{escape(path)}")

import duckdb  # every night at once: each file carries its {DATASETS[dataset].partition}
duckdb.sql("select * from read_parquet('{escape(every)}')")</pre>
</section>"""


def write_catalog(data: Path, docs: dict[str, dict]) -> Path:
    """Render the page for the latest release (`docs`: the datasets' descriptions, dataset_docs) and put
    it in place with a rename."""
    page = render(data / "publish", docs)
    return write_atomically(data / "docs" / "index.html", lambda tmp: tmp.write_text(page, encoding="utf-8"))
