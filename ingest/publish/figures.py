"""How a published figure is written for people: counts with separators, shares as percents, none as —."""

from __future__ import annotations

MISSING = "—"


def format_figure(value) -> str:
    """`7,724`, `36.0%` (a share is a float from 0 to 1), `—` for null, `yes`/`no`, else the text."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def is_count(value) -> bool:
    """A figure that adds up across cities (a count, not a share, flag or name)."""
    return isinstance(value, int) and not isinstance(value, bool)
