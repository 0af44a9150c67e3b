"""How a published figure is written for people: counts with separators, shares as percents, none as —."""

from __future__ import annotations

import re
from html import escape

MISSING = "—"


def is_year(column: str) -> bool:
    """A column that holds a year (`year`, `inspection_year`), not a count of one (`registered_in_year`)."""
    return column == "year" or (column.endswith("_year") and not column.endswith("_in_year"))


def format_figure(value, column: str = "") -> str:
    """`7,724`, `36.0%` (a share is a float from 0 to 1), `—` for null, `yes`/`no`, a year as written, else
    the text."""
    if value is None:
        return MISSING
    if is_year(column):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def is_count(value, column: str = "") -> bool:
    """A figure that adds up across cities (a count, not a share, flag, year or name)."""
    return isinstance(value, int) and not isinstance(value, bool) and not is_year(column)


def bilingual(description: str) -> tuple[str, str]:
    """(中文, English) of a dbt column description written `English. 中文`; the English part cut before
    its first parenthesis or semicolon, to serve as a label.

    >>> bilingual("Designated associations graded 3A or above (still valid). 3A及以上集群协会数")
    ('3A及以上集群协会数', 'Designated associations graded 3A or above')
    >>> bilingual("Six-digit city code")
    ('Six-digit city code', '')
    """
    text = " ".join(description.split())
    head, sep, tail = text.rpartition(". ")
    if not sep or not re.search(r"[\u4e00-\u9fff]", tail):
        return text, ""
    return tail.strip(), re.split(r"\s\(|;", head)[0].strip()


def plain(value):
    """A pandas/numpy cell as the Python value the published Parquet holds (int, float, bool, None):
    pandas reads a null text as NaN and a null count as NA."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def caption(zh: str, en: str) -> str:
    """Chinese first, English beside it."""
    return f'{escape(zh)} <span class="en">· {escape(en)}</span>'
