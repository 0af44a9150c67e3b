"""Typing one row's cells against a layout: a parser per column type, and why a row is rejected."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from ingest.parse import cells as n
from ingest.parse.workbooks import Formula
from ingest.rules.creditcode import organization_code, verify
from ingest.rules.layouts import Column, Layout
from ingest.rules.typing_rules import (
    CREDIT_CODE_CATEGORIES,
    LABEL_COLUMN_SUFFIX,
    LABELLED_TYPES,
    NORMALIZED_SUFFIX,
    identifier,
    title_label,
)


def _division(value: object) -> str | None:
    raw = n.text(value)
    if raw is None:
        return None
    raw = n.halfwidth(raw)
    if len(raw) != 6 or not raw.isdigit():
        raise n.CellError("division_code_invalid", value)
    return raw


def _credit_code(value: object) -> str | None:
    if n.text(value) is None:
        return None
    if isinstance(value, float) and abs(value) >= 1e15:
        raise n.CellError("credit_code_typed_as_number", value)
    verdict = verify(value)
    if not verdict.ok:
        raise n.CellError(verdict.reason, value)
    return verdict.code


def _organization_code(value: object) -> str | None:
    raw = n.text(value)
    if raw is None:
        return None
    code = organization_code(n.halfwidth(raw))
    if code is None:
        raise n.CellError("organization_code_invalid", value)
    return code


CELL_PARSERS: dict[str, Callable[[object], object]] = {
    "text": n.text,
    "name": lambda v: n.halfwidth(t) if (t := n.text(v)) else None,
    "identifier": lambda v: identifier(t) if (t := n.text(v)) else None,
    "credit_code": _credit_code,
    "org_code": _organization_code,
    "division": _division,
    "date": n.parse_date,
    "amount": n.parse_amount,
    "grade": n.parse_grade,
    "year": n.parse_year,
    "org_type": n.parse_org_type,
    "org_status": n.parse_org_status,
    "member_kind": n.parse_member_kind,
    "member_role": n.parse_member_role,
    "member_status": n.parse_member_status,
    "qualification": n.parse_qualification,
    "inspection_result": n.parse_inspection_result,
    "credit_list_kind": n.parse_credit_list_kind,
    "money": n.parse_money,
    "count": n.parse_count,
}


class Rejected(Exception):
    """A row that cannot be loaded: the reason code, the column and the offending value."""

    def __init__(self, reason: str, column: str | None, value: object):
        self.reason, self.column, self.value = reason, column, value

    def fields(self) -> dict[str, str | None]:
        """The quarantine row's reason, column_name and value (as text)."""
        value = None if self.value is None else str(self.value)
        return {"reason": self.reason, "column_name": self.column, "value": value}


def type_record(
    layout: Layout,
    cells: dict[str, object],
    export_date: dt.date,
    notes: Counter | None = None,
    defaults: dict[str, object] | None = None,
) -> dict[str, object]:
    """Type one row's cells; raise Rejected with the first problem found.

    Cell-level defects that do not cost the row (a "not available" marker, a column whose layout
    says `errors: note`) are counted in `notes` as `<column>:<reason>` and the cell becomes null. An
    empty cell of a column in `defaults` takes the file's value (file_defaults: the list's year from
    its name, the list from its title line).
    """
    notes = Counter() if notes is None else notes
    values = {col.name: cells.get(col.name, col.default) for col in layout.columns}
    for column, value in (defaults or {}).items():
        if n.text(values.get(column)) is None and not isinstance(values.get(column), n.Parts):
            values[column] = value
    for column, value in values.items():
        if isinstance(value, str) and value.strip() in layout.not_available:
            notes[f"{column}:not_available"] += 1
            values[column] = None
    record: dict[str, object] = {}
    for col in layout.columns:
        value = values[col.name]
        if col.personal:
            continue
        if isinstance(value, Formula):
            raise Rejected("cell_formula", col.name, value)
        try:
            typed = _derive(col, record) if col.derive else _typed(col, value)
        except n.CellError as err:
            if col.errors != "note":
                raise Rejected(err.reason, col.name, value) from None
            notes[f"{col.name}:{err.reason}"] += 1
            typed = None
        if typed is None and col.required and not any(n.text(values.get(u)) for u in col.unless):
            raise Rejected(f"{col.name}_missing", col.name, value)
        if col.not_after_export and typed is not None:
            if isinstance(typed, int) and typed > export_date.year:
                raise Rejected("year_after_export", col.name, value)
            if isinstance(typed, dt.date) and typed > export_date:
                raise Rejected("date_in_future", col.name, value)
        earliest = record.get(col.not_before) if col.not_before else None
        if typed is not None and earliest is not None and typed < earliest:
            raise Rejected(f"{col.name}_before_{col.not_before}", col.name, value)
        record[col.name] = typed
        if col.type in LABELLED_TYPES:
            record[f"{col.name}{LABEL_COLUMN_SUFFIX}"] = None if col.derive else n.text(value)
        if col.type == "name":
            record[f"{col.name}{NORMALIZED_SUFFIX}"] = n.normalize_name(typed) if typed else None
    return record


def file_defaults(layout: Layout, file_fields: dict[str, str], titles: list[str]) -> dict[str, object]:
    """The values a file gives its rows' empty cells: a `default_from` column the file name's field, the
    `title_column` the first of TITLE_WORDS in the lines above the header."""
    defaults: dict[str, object] = {
        c.name: file_fields.get(c.default_from) for c in layout.columns if c.default_from
    }
    if layout.title_column:
        column = layout.column(layout.title_column)
        if (label := title_label(column.type, titles)) is not None:
            defaults[column.name] = label
    return defaults


def _typed(col: Column, value: object) -> object:
    """A cell typed by its column's parser; the parts of a `sum` column typed one by one and added (all
    empty: null)."""
    parse = CELL_PARSERS[col.type]
    if not isinstance(value, n.Parts):
        return parse(value)
    typed = [t for part in value if (t := parse(part)) is not None]
    return sum(typed[1:], typed[0]) if typed else None


def _derive(col: Column, record: dict[str, object]) -> object:
    """A column the export does not carry, derived from one it does (layout option `derive`)."""
    if col.derive == "credit_code_category":
        category = CREDIT_CODE_CATEGORIES.get(str(record.get("credit_code") or "")[:2])
        if category is None:
            raise n.CellError("not_a_social_organization", record.get("credit_code"))
        return category
    raise ValueError(f"unknown derivation {col.derive!r} for {col.name}")
