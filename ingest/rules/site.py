"""The deployment's site folder (`SOCORG_SITE` / `--site`): export layouts and reference data (cluster
taxonomies, designated associations, exhibition points, divisions), checked before a night."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

from ingest.rules.site_folder import SiteError, site_dir, site_layouts, site_seeds  # noqa: F401 (SiteError, site_dir: the site's API)


def seed_file(name: str) -> Path:
    """A reference table: the site's `seeds/<name>` when it has one, else the bundled seed."""
    from ingest.common.paths import SEEDS_DIR

    site = site_seeds()
    return site / name if site and (site / name).exists() else SEEDS_DIR / name


def dbt_project_for(data: Path) -> Path:
    """The dbt project a night builds with: the bundled `dbt_project/`, or — when the site has reference
    data — `<data>/runs/dbt/project/`, the bundled project linked in with the site's seeds in place of
    the bundled ones of the same name (dbt reads seeds from its project only)."""
    from ingest.common.paths import DBT_DIR

    site = site_seeds()
    if site is None:
        return DBT_DIR
    project = data / "runs" / "dbt" / "project"
    project.mkdir(parents=True, exist_ok=True)
    for entry in DBT_DIR.iterdir():
        if entry.name in ("seeds", "target", "logs", "dbt_packages", ".user.yml"):
            continue
        link = project / entry.name
        if not (link.is_symlink() and link.resolve() == entry.resolve()):
            link.unlink(missing_ok=True)
            link.symlink_to(entry, target_is_directory=entry.is_dir())
    seeds = project / "seeds"
    seeds.mkdir(exist_ok=True)
    wanted = {p.name: p.read_bytes() for p in (DBT_DIR / "seeds").iterdir() if p.is_file()}
    wanted.update({p.name: site_seed_bytes(p) for p in site.glob("*.csv")})
    for stale in seeds.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    for name, content in wanted.items():
        target = seeds / name
        if not target.exists() or target.read_bytes() != content:
            target.write_bytes(content)
    return project


# Columns a site's reference table may leave out, as written before they existed: its rows then hold
# from the beginning (an exhibition point's designated_year, the column they replaced, gives its
# valid_from: 1 January of that year).
OPTIONAL_SEED_COLUMNS = ("valid_from", "valid_until")
LEGACY_SEED_COLUMNS = {"exhibition_points.csv": ("designated_year",)}


def site_seed_bytes(path: Path) -> bytes:
    """A site's reference table as dbt loads it: in the bundled seed's columns (missing optional ones
    added empty), byte for byte as written when it has them all."""
    import io

    from ingest.common.paths import DBT_DIR

    expected = _header(DBT_DIR / "seeds" / path.name)
    header = _header(path)
    if header == expected:
        return path.read_bytes()
    out = io.StringIO()
    writer = csv.DictWriter(out, expected, lineterminator="\n")
    writer.writeheader()
    for row in _rows(path):
        year = (row.get("designated_year") or "").strip()
        if "valid_from" not in row and year:
            row["valid_from"] = f"{year}-01-01"
        writer.writerow({column: row.get(column, "") for column in expected})
    return out.getvalue().encode("utf-8")


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])


def site_files() -> list[Path]:
    """Every file of the site folder (for the release fingerprint: a changed site rebuilds the night)."""
    site = site_dir()
    if site is None or not site.is_dir():
        return []
    return sorted(p for p in site.rglob("*") if p.is_file() and not p.name.startswith("."))


def check_site() -> None:
    """Every layout (bundled and the site's) loads: raise SiteError naming the file and the line of
    the first problem — bad YAML, a missing key, an unknown column type, a variant adding columns."""
    from ingest.rules.layouts import SOURCES, load_layouts

    folder = site_layouts()
    for path in sorted(folder.glob("*.yaml")) if folder else []:
        text = path.read_text(encoding="utf-8")
        try:
            spec = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            raise SiteError(
                f"{path}:{mark.line + 1 if mark else '?'}: not valid YAML ({exc.problem})"
            ) from None
        if not isinstance(spec, dict) or spec.get("source") not in SOURCES:
            raise SiteError(f"{path}:1: expected a layout with `source:` one of {', '.join(SOURCES)}")
        source = spec["source"]
        if path.stem != source and not path.stem.startswith(f"{source}_"):
            raise SiteError(f"{path}:1: a {source} layout is named {source}.yaml or {source}_<name>.yaml")
        _check_columns(path, text, spec)
    for source in SOURCES:
        try:
            load_layouts(source)
        except (KeyError, ValueError, re.error) as exc:
            raise SiteError(f"{_where(exc)}: {exc}") from None
    _check_seeds()


def _check_seeds() -> None:
    """A site's reference CSV replaces a bundled seed: same name, same columns; every city it names is
    a city of the divisions (the site's, else the bundled list)."""
    from ingest.common.paths import DBT_DIR

    folder = site_seeds()
    if folder is None:
        return
    bundled = DBT_DIR / "seeds"
    divisions = seed_file("divisions.csv")
    cities = {r["division_code"] for r in _rows(divisions) if r.get("level") == "city"}
    for path in sorted(folder.glob("*.csv")):
        if not (bundled / path.name).exists():
            known = ", ".join(sorted(p.name for p in bundled.glob("*.csv")))
            raise SiteError(f"{path}:1: not a reference table socorg knows (expected one of {known})")
        header, expected = _header(path), _header(bundled / path.name)
        legacy = LEGACY_SEED_COLUMNS.get(path.name, ())
        required = [c for c in expected if c not in OPTIONAL_SEED_COLUMNS]
        kept = [c for c in header if c not in legacy and c not in OPTIONAL_SEED_COLUMNS]
        if kept != required or not set(header) <= {*expected, *legacy}:
            optional = ", ".join(c for c in expected if c in OPTIONAL_SEED_COLUMNS)
            raise SiteError(
                f"{path}:1: columns {', '.join(header)}; expected {', '.join(expected)} ({optional} may be "
                "left out: the rows then hold from the beginning)"
            )
        for number, row in enumerate(_rows(path), start=2):
            if "city_code" in row and path.name != "divisions.csv" and row["city_code"] not in cities:
                raise SiteError(
                    f"{path}:{number}: city_code {row['city_code']!r} is not a city of {divisions.name}"
                )
        _check_periods(path)


# What a dated reference row is one of: a key may hold over periods that do not overlap.
PERIOD_KEYS = {
    "cluster_taxonomy.csv": ("cluster_code",),
    "cluster_associations.csv": ("association_credit_code",),
    "exhibition_points.csv": ("credit_code",),
    "exhibition_point_pairs.csv": ("cluster_code",),
}


def _check_periods(path: Path) -> None:
    """valid_from and valid_until are dates (YYYY-MM-DD; designated_year a year), the one not after the
    other, and the periods of one key do not overlap (a row would count twice)."""
    import datetime as dt
    from itertools import pairwise

    periods: dict[tuple, list[tuple[str, str, int]]] = {}
    for number, row in enumerate(_rows(path), start=2):
        for column in ("valid_from", "valid_until"):
            value = (row.get(column) or "").strip()
            try:
                dt.date.fromisoformat(value) if value else None
            except ValueError:
                raise SiteError(f"{path}:{number}: {column} {value!r} is not a date (YYYY-MM-DD)") from None
        year = (row.get("designated_year") or "").strip()
        if year and not (year.isdigit() and len(year) == 4):
            raise SiteError(f"{path}:{number}: designated_year {year!r} is not a year")
        start = (row.get("valid_from") or "").strip() or (f"{year}-01-01" if year else "")
        end = (row.get("valid_until") or "").strip()
        if start and end and end < start:
            raise SiteError(f"{path}:{number}: valid_until {end} is before valid_from {start}")
        if path.name in PERIOD_KEYS:
            key = tuple(row.get(c) for c in PERIOD_KEYS[path.name])
            periods.setdefault(key, []).append((start, end or "9999-12-31", number))
    for key, spans in periods.items():
        spans.sort()
        for (_, end, first), (start, _, second) in pairwise(spans):
            if start <= end:
                named = f"{', '.join(PERIOD_KEYS[path.name])} {', '.join(key)}"
                until = end if end != "9999-12-31" else "now"
                raise SiteError(
                    f"{path}:{second}: {named} holds from {start or 'the beginning'}, while line {first} "
                    f"still holds it (until {until})"
                )


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _check_columns(path: Path, text: str, spec: dict) -> None:
    from ingest.rules.formats import file_pattern
    from ingest.rules.typing_rules import ARROW_TYPES

    for key in ("file_pattern", "columns"):
        if key not in spec:
            raise SiteError(f"{path}:1: the layout has no `{key}:`")
    try:
        re.compile(file_pattern(spec["file_pattern"]))
    except re.error as exc:
        raise SiteError(
            f"{path}:{_line_of(text, 'file_pattern')}: file_pattern is not a regex ({exc})"
        ) from None
    for name, column in (spec["columns"] or {}).items():
        kind = (column or {}).get("type")
        if kind not in ARROW_TYPES:
            raise SiteError(
                f"{path}:{_line_of(text, name)}: column {name} has type {kind!r}; "
                f"expected one of {', '.join(ARROW_TYPES)}"
            )


def _line_of(text: str, key: str) -> int:
    """The first line that starts the YAML key `key` (1 when none does)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*{re.escape(key)}\s*:", line):
            return number
    return 1


def _where(exc: Exception) -> str:
    """The file (and line) a layout error names, from its message (`<file>: …`)."""
    message = str(exc)
    name = message.split(":", 1)[0]
    folder = site_layouts()
    if folder and (folder / name).exists():
        return f"{folder / name}:{_line_of((folder / name).read_text(encoding='utf-8'), 'columns')}"
    return name
