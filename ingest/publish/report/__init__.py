"""The night report for people: `publish/reports/<date>/index.html` (per city, with static SVG charts)
and the workbook, written with the release; and `publish/reports/index.html`, every night's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.publish.figures import caption
from ingest.publish.report.frames import read_night
from ingest.publish.report.page import STYLE, render_report


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
    from ingest.common.releases import latest_file, releases

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
            f"<h1>{caption('社会组织数据夜报', 'socorg night reports')}</h1>",
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
