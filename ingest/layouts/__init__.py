"""Declarative export layouts, one YAML file per source: header aliases, types, thresholds."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent
SOURCES = ("registry", "membership", "qualifications")


@dataclass(frozen=True)
class Column:
    """One canonical column: how it is spelled in exports and how its cells are typed."""

    name: str
    type: str
    aliases: tuple[str, ...]
    required: bool = False
    personal: bool = False
    not_after_export: bool = False


@dataclass(frozen=True)
class Layout:
    """How one source's export files are named, laid out and typed."""

    source: str
    description: str
    file_pattern: re.Pattern
    columns: tuple[Column, ...]
    sheet: int | str = 0
    encodings: tuple[str, ...] = ("utf-8", "gb18030")
    quarantine_threshold: float = 0.05
    unique_key: str | None = None
    ignored_headers: tuple[str, ...] = field(default_factory=tuple)

    def column_for_header(self, header: str) -> Column | None:
        """The canonical column a header cell names (compared half-width, without spaces)."""
        return self._alias_index().get(header_key(header))

    @cache  # noqa: B019 - layouts are few and immutable
    def _alias_index(self) -> dict[str, Column]:
        return {header_key(a): col for col in self.columns for a in (col.name, *col.aliases)}


def header_key(header: str) -> str:
    """The form in which headers are compared: half-width, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", header))


def load_layout(source: str, directory: Path | None = None) -> Layout:
    """Read `<source>.yaml` from the layouts folder (or another folder holding a city's own)."""
    path = (directory or HERE) / f"{source}.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    columns = tuple(
        Column(
            name=name,
            type=col["type"],
            aliases=tuple(col.get("aliases", ())),
            required=bool(col.get("required", False)),
            personal=bool(col.get("personal", False)),
            not_after_export=bool(col.get("not_after_export", False)),
        )
        for name, col in spec["columns"].items()
    )
    return Layout(
        source=spec["source"],
        description=spec.get("description", ""),
        file_pattern=re.compile(spec["file_pattern"]),
        columns=columns,
        sheet=spec.get("sheet", 0),
        encodings=tuple(spec.get("encodings", ("utf-8", "gb18030"))),
        quarantine_threshold=float(spec.get("quarantine_threshold", 0.05)),
        unique_key=spec.get("unique_key"),
        ignored_headers=tuple(spec.get("ignored_headers", ())),
    )
