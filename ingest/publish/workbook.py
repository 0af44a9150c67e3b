"""`publish/reports/<date>/socorg_<date>.xlsx`: the night's figures as a spreadsheet for officials."""

from __future__ import annotations

import datetime as dt
import decimal
import unicodedata
from pathlib import Path

from ingest.publish.figures import bilingual, plain

ASSOCIATION_COLUMNS = [
    "city_code", "cluster_code", "cluster_name", "association_count", "association_grade",
    "association_is_high_grade", "association_funded", "association_in_good_standing",
    "paired_exhibition_point_code", "paired_exhibition_point_name",
]  # fmt: skip
STANDING_COLUMNS = [
    "city_code", "cluster_code", "cluster_name", "association_in_good_standing",
    "association_standing_reason",
]  # fmt: skip
QUALITY_COLUMNS = [
    "source", "file_name", "version", "status", "rows_read", "rows_loaded", "rows_quarantined",
    "quarantine_reasons",
]  # fmt: skip
MAX_WIDTH = 60  # characters; a long name wraps beyond it


def sheets(frames: dict) -> dict[str, tuple[str, object]]:
    """Sheet name → (the dataset its columns are described in, the rows)."""
    clusters = frames["clusters"]
    return {
        "城市概况": ("city_summary", frames["city_summary"]),
        "产业集群": ("clusters", clusters),
        "集群协会": ("clusters", clusters[clusters.has_association.astype(bool)][ASSOCIATION_COLUMNS]),
        "协会信用": (
            "clusters",
            clusters[clusters.association_in_good_standing.eq(False).fillna(False).astype(bool)][
                STANDING_COLUMNS
            ],
        ),
        "登记变动": ("registry_changes", frames["changes"]),
        "历年城市": ("city_by_year", frames["city_by_year"].sort_values(["city_code", "year"])),
        "历年集群": (
            "cluster_by_year",
            frames["cluster_by_year"].sort_values(["city_code", "cluster_code", "year"]),
        ),
        "城市以外": ("registrar_placements", frames["registrar_placements"]),
        "数据质量": ("loads", frames["loads"][QUALITY_COLUMNS]),
    }


def write_workbook(path: Path, frames: dict, docs: dict[str, dict], export_date: dt.date) -> Path:
    """One sheet per table: a Chinese header row, the English column names below it, the header frozen,
    numbers as numbers, dates as dates, shares as percents, widths set. The same night gives the same
    bytes (the workbook's creation time is the night). Its rows are published datasets', which hold no
    personal column (night._export refuses one)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    book.set_properties(
        {"title": f"socorg {export_date.isoformat()}", "created": dt.datetime.combine(export_date, dt.time())}
    )
    header = book.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True})
    english = book.add_format({"italic": True, "font_color": "#555555", "border": 1})
    formats = {
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "share": book.add_format({"num_format": "0.0%"}),
        "count": book.add_format({"num_format": "#,##0"}),
        "amount": book.add_format({"num_format": "#,##0.0000"}),
    }
    for name, (dataset, frame) in sheets(frames).items():
        sheet = book.add_worksheet(name)
        described = docs.get(dataset, {}).get("columns", {})
        widths = []
        for col, column in enumerate(frame.columns):
            zh, _ = bilingual(described.get(column, "")) if described.get(column) else (column, "")
            sheet.write(0, col, zh or column, header)
            sheet.write(1, col, column, english)
            widths.append(max(_width(zh), _width(column)))
        for row, values in enumerate(frame.itertuples(index=False), start=2):
            for col, value in enumerate(values):
                shown = _write_cell(sheet, row, col, value, formats)
                widths[col] = max(widths[col], _width(shown))
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(width + 2, MAX_WIDTH))
        sheet.freeze_panes(2, 0)
        sheet.autofilter(1, 0, max(1, len(frame) + 1), max(0, len(frame.columns) - 1))
    book.close()
    return path


def _write_cell(sheet, row: int, col: int, value, formats: dict) -> str:
    """Write one cell in its type; return how wide it shows."""
    value = plain(value)
    if value is None:
        sheet.write_blank(row, col, None)
        return ""
    if isinstance(value, bool):
        sheet.write_boolean(row, col, bool(value))
        return "FALSE"
    if isinstance(value, dt.date):  # a pandas Timestamp is a datetime, a datetime a date
        day = value.date() if isinstance(value, dt.datetime) else value
        sheet.write_datetime(row, col, dt.datetime.combine(day, dt.time()), formats["date"])
        return "2023-10-31"
    if isinstance(value, decimal.Decimal):
        sheet.write_number(row, col, float(value), formats["amount"])
        return f"{value:,.4f}"
    if isinstance(value, int):
        sheet.write_number(row, col, value, formats["count"])
        return f"{value:,}"
    if isinstance(value, float):  # the published floats are shares (as format_figure writes them)
        sheet.write_number(row, col, value, formats["share"])
        return "100.0%"
    text = str(value)
    sheet.write_string(row, col, text)
    return text


def _width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a CJK or full-width character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
