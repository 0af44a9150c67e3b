"""Declarative export layouts, one YAML file per source: header aliases, types, thresholds."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import yaml

from ingest.rules.formats import delimiter_of, file_pattern
from ingest.rules.typing_rules import HEADER_UNIT, TITLE_UNIT, UNIT_SCALES  # noqa: F401 (TITLE_UNIT: for unit_scale)

HERE = Path(__file__).parent
SOURCES = (
    "registry",
    "membership",
    "qualifications",
    "funding",
    "inspections",
    "annual_reports",
    "credit_lists",
)
# The standing sources (issue 35): lists that hold until replaced, read by every later night.
STANDING_SOURCES = ("inspections", "annual_reports", "credit_lists")


@dataclass(frozen=True)
class Column:
    """One canonical column: how it is spelled in exports and how its cells are typed."""

    name: str
    type: str
    aliases: tuple[str, ...]
    required: bool = False
    unless: tuple[str, ...] = ()  # required, unless the row has one of these columns instead
    personal: bool = False
    not_after_export: bool = False
    derive: str | None = None
    default: str | None = None
    errors: str = "quarantine"
    sum: bool = False  # every header of its aliases is a part, added (restricted + unrestricted amounts)
    default_from: str | None = None  # an empty cell takes this file name field (the list's year)
    not_before: str | None = None  # a date that may not precede this column's (removed before included)


@dataclass(frozen=True)
class Layout:
    """How one source's export files are named, laid out and typed."""

    source: str
    description: str
    file_pattern: re.Pattern
    columns: tuple[Column, ...]
    sheet: int | str = 0
    encodings: tuple[str, ...] = ("utf-8", "gb18030")
    delimiter: str | None = None  # a text export's delimiter, pinned (else detected: rules.formats)
    quarantine_threshold: float = 0.05
    quarantine_min_rows: int = 100
    max_shrink: float | None = None
    unique_key: str | None = None
    ignored_headers: tuple[str, ...] = field(default_factory=tuple)
    not_available: tuple[str, ...] = field(default_factory=tuple)
    name: str = ""
    conflict_column: str | None = None  # a repeated key with another value here: every such row quarantined
    title_column: str | None = None  # an empty cell of this column takes the title line above the header

    @property
    def python_only(self) -> bool:
        """Layouts whose options only the Python row path applies (the DuckDB fast path declines them)."""
        options = any(c.sum or c.default_from or c.not_before for c in self.columns)
        return options or bool(self.conflict_column or self.title_column)

    def column(self, name: str) -> Column:
        """The canonical column of that name."""
        return next(c for c in self.columns if c.name == name)

    def column_for_header(self, header: str) -> Column | None:
        """The canonical column a header cell names (compared half-width, without spaces); a money
        column's header may carry its unit (`收入合计（万元）`)."""
        key = header_key(header)
        found = self._alias_index().get(key)
        if found is None and (unit := re.search(HEADER_UNIT, key)):
            found = self._alias_index().get(key[: unit.start()])
            return found if found is not None and found.type == "money" else None
        return found

    @cache  # noqa: B019 - layouts are few and immutable
    def ignored_keys(self) -> frozenset[str]:
        """The ignored headers in the form headers are compared in (header_key)."""
        return frozenset(header_key(x) for x in self.ignored_headers)

    @cache  # noqa: B019 - layouts are few and immutable
    def _alias_index(self) -> dict[str, Column]:
        return {header_key(a): col for col in self.columns for a in (col.name, *col.aliases)}


def header_key(header: str) -> str:
    """The form in which headers are compared: half-width, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", header))


def unit_scale(text: str, pattern: str = HEADER_UNIT) -> int | None:
    """What one unit of a header's (or, with TITLE_UNIT, a title line's) stated unit is in 元, if it
    states one.

    >>> unit_scale("收入合计（万元）"), unit_scale("净资产(单位:元)"), unit_scale("单位：万元", TITLE_UNIT)
    (10000, 1, 10000)
    """
    found = re.search(pattern, header_key(text))
    return UNIT_SCALES[found.group("unit")] if found else None


def load_layout(source: str, directory: Path | None = None) -> Layout:
    """The source's canonical layout, `<source>.yaml` (the site's, when it has one): its columns are the
    raw schema."""
    return _read_layout(_layout_files(source, directory)[0])


def load_layouts(source: str, directory: Path | None = None) -> list[Layout]:
    """Every layout of a source: `<source>.yaml` first, then variants `<source>_<name>.yaml` — the
    bundled ones and the site's (`SOCORG_SITE`/layouts/), a site file replacing a bundled one of the
    same name.

    A variant maps another export layout onto the canonical columns; it may not add columns, and a
    site's `<source>.yaml` must keep the bundled one's columns (the warehouse is built on them).
    """
    canonical_path, *variant_paths = _layout_files(source, directory)
    canonical = _read_layout(canonical_path)
    known = {c.name for c in canonical.columns}
    if directory is None and canonical_path.parent != HERE:
        bundled = {c.name for c in _read_layout(HERE / f"{source}.yaml").columns}
        if known != bundled:
            raise ValueError(
                f"{canonical_path.name}: a site's {source}.yaml must keep the columns of the bundled one; "
                f"missing {sorted(bundled - known)}, added {sorted(known - bundled)}"
            )
    variants = []
    for path in variant_paths:
        variant = _read_layout(path)
        extra = {c.name for c in variant.columns} - known
        if variant.source != source or extra:
            raise ValueError(
                f"{path.name}: a {source} layout may only use the columns of {source}.yaml; {sorted(extra)}"
            )
        variants.append(variant)
    return [canonical, *variants]


def _layout_files(source: str, directory: Path | None) -> list[Path]:
    """`<source>.yaml` and its variants by file name, from `directory`, else bundled then site."""
    from ingest.rules.site_folder import site_layouts

    folders = [directory] if directory else [HERE, *filter(None, [site_layouts()])]
    found: dict[str, Path] = {}
    for folder in folders:  # a later folder's file replaces an earlier one of the same name
        for path in [folder / f"{source}.yaml", *folder.glob(f"{source}_*.yaml")]:
            if path.exists():
                found[path.name] = path
    canonical = found.pop(f"{source}.yaml")
    return [canonical, *(found[name] for name in sorted(found))]


def personal_columns(directory: Path | None = None) -> frozenset[str]:
    """Every column a layout of any source marks `personal: true`: it never reaches raw/ or a release."""
    layouts = [x for source in SOURCES for x in load_layouts(source, directory)]
    return frozenset(c.name for x in layouts for c in x.columns if c.personal)


def layout_for(source: str, file_name: str, directory: Path | None = None) -> Layout | None:
    """The layout of a file: the first variant whose file name pattern matches — a site's variant may
    take files the canonical pattern matches too — else the canonical layout, else None."""
    canonical, *variants = load_layouts(source, directory)
    return next((x for x in [*variants, canonical] if x.file_pattern.match(file_name)), None)


def _read_layout(path: Path) -> Layout:
    """The layout file parsed once per version of it (a night asks for it for every file)."""
    stat = path.stat()
    return _parsed_layout(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=128)
def _parsed_layout(path: Path, mtime_ns: int, size: int) -> Layout:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    columns = tuple(
        Column(
            name=name,
            type=col["type"],
            aliases=tuple(col.get("aliases", ())),
            required=bool(col.get("required", False)),
            unless=tuple(col.get("unless", ())),
            personal=bool(col.get("personal", False)),
            not_after_export=bool(col.get("not_after_export", False)),
            derive=col.get("derive"),
            default=col.get("default"),
            errors=col.get("errors", "quarantine"),
            sum=bool(col.get("sum", False)),
            default_from=col.get("default_from"),
            not_before=col.get("not_before"),
        )
        for name, col in spec["columns"].items()
    )
    return Layout(
        source=spec["source"],
        description=spec.get("description", ""),
        file_pattern=re.compile(file_pattern(spec["file_pattern"])),
        columns=columns,
        sheet=spec.get("sheet", 0),
        encodings=tuple(spec.get("encodings", ("utf-8", "gb18030"))),
        delimiter=delimiter_of(spec.get("delimiter")),
        quarantine_threshold=float(spec.get("quarantine_threshold", 0.05)),
        quarantine_min_rows=int(spec.get("quarantine_min_rows", 100)),
        max_shrink=None if spec.get("max_shrink") is None else float(spec["max_shrink"]),
        unique_key=spec.get("unique_key"),
        ignored_headers=tuple(spec.get("ignored_headers", ())),
        not_available=tuple(spec.get("not_available", ())),
        name=path.stem,
        conflict_column=spec.get("conflict_column"),
        title_column=spec.get("title_column"),
    )
