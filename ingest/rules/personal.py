"""Personal data: masking it in messages, and what a quarantined row may keep of its cells."""

from __future__ import annotations

import json
import re

from ingest.rules.layouts import Layout
from ingest.rules.typing_rules import INDIVIDUAL_COLUMNS, INDIVIDUAL_MARK, SPACES

WITHHELD_KEY = "_withheld"  # row_json lists the personal columns a quarantined row had, not their values
_DIGITS = re.compile(r"\d")


def mask(value: object) -> str:
    """A cell as a message may show it when nobody knows whether it is personal.

    >>> mask("黄小明"), mask("15412346152"), mask("苏州市吴中区社会组织")
    ('黄**', '154****6152', '苏州市*******')
    """
    text = "" if value is None else str(value).strip()
    if len(_DIGITS.findall(text)) >= 7:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    keep = 1 if len(text) <= 4 else len(text) // 3
    return text[:keep] + "*" * (len(text) - keep)


def withheld_columns(layout: Layout, names: list[str]) -> list[str]:
    """The columns among `names` that a quarantined row must not keep the values of."""
    personal = {c.name for c in layout.columns if c.personal}
    return [n for n in names if n in personal]


def quarantine_json(layout: Layout, cells: dict[str, object]) -> str:
    """A quarantined row's cells as JSON without personal data: personal columns are named under
    `_withheld`; so are an individual member's name and code (an identity card number, as like as not).

    >>> from ingest.rules.layouts import load_layout
    >>> cells = {"member_name": "黄小明", "member_credit_code": "3", "member_kind": "个人 会员", "phone": "1"}
    >>> quarantine_json(load_layout("membership"), cells)
    '{"member_kind": "个人 会员", "_withheld": ["member_credit_code", "member_name", "phone"]}'
    """
    withheld = set(withheld_columns(layout, list(cells)))
    if _individual(layout, str(cells.get("member_kind") or "")):
        withheld.update(c for c in INDIVIDUAL_COLUMNS if c in cells)
    kept = {k: v for k, v in cells.items() if k not in withheld}
    if withheld:
        kept[WITHHELD_KEY] = sorted(withheld)
    return json.dumps(kept, ensure_ascii=False, default=str)


def quarantine_json_sql(layout: Layout, columns: list[tuple[str, str]]) -> str:
    """quarantine_json as a DuckDB expression over (column name, cell expression) pairs: the same keys
    and values, so that both typing paths quarantine alike."""
    withheld = sorted(withheld_columns(layout, [name for name, _ in columns]))
    cells = dict(columns)
    kept = ", ".join(f"'{name}': {expr}" for name, expr in columns if name not in withheld)
    row = f"to_json({{{kept}}})"
    patch = {WITHHELD_KEY: withheld} if withheld else {}
    personal = [c for c in INDIVIDUAL_COLUMNS if c in cells]
    if not (layout.source == "membership" and "member_kind" in cells and personal):
        return f"json_merge_patch({row}, '{json.dumps(patch)}')" if patch else row
    # An individual member's name and code go too: a null in a merge patch removes the key.
    person = {**dict.fromkeys(personal), WITHHELD_KEY: sorted([*withheld, *personal])}
    kind = cells["member_kind"]
    for space in SPACES:
        kind = f"replace({kind}, '{space}', '')"
    individual = f"coalesce(contains({kind}, '{INDIVIDUAL_MARK}'), false)"
    return (
        f"json_merge_patch({row}, case when {individual} then '{json.dumps(person)}' "
        f"else '{json.dumps(patch)}' end)"
    )


def _individual(layout: Layout, member_kind: str) -> bool:
    for space in SPACES:
        member_kind = member_kind.replace(space, "")
    return layout.source == "membership" and INDIVIDUAL_MARK in member_kind
