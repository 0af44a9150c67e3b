"""`socorg inspect`: how a night would read an export (or a date's exports), without running one."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from collections import Counter
from pathlib import Path

from ingest.cli import exit_codes
from ingest.common.errors import SocorgError

EXAMPLES = 3


def inspect_command(args) -> int:
    """Exit 0 when every file would load, 1 when the night would stop on one of them."""
    from ingest.rules.site import SiteError, check_site

    try:
        check_site()
    except SiteError as exc:
        print(f"socorg inspect: the site folder is broken.\n  {exc}", file=sys.stderr)
        return exit_codes.STOPPED
    target = Path(args.path)
    if target.is_dir():
        if args.date is None:
            print("socorg inspect: a folder needs --date (its <source>/<date>/ files)", file=sys.stderr)
            return exit_codes.USAGE
        files = _folder_files(target, args.date, args.source)
        _say_unread(target, args.date)
        if not files:
            print(f"socorg inspect: no exports under {target}/<source>/{args.date}/", file=sys.stderr)
            return exit_codes.STOPPED
    elif target.is_file():
        files = [(args.source, target)]
    else:
        print(f"socorg inspect: {target} does not exist", file=sys.stderr)
        return exit_codes.USAGE
    export_date = args.date or dt.date.today()
    stops = [not inspect_file(path, source, export_date) for source, path in files]
    if len(files) > 1:
        print(f"\n{len(files)} files: {sum(stops)} would stop the night")
    return exit_codes.STOPPED if any(stops) else exit_codes.OK


def _say_unread(root: Path, export_date: dt.date) -> None:
    """Name the files of the night that no source reads (a night's run names them too)."""
    import fsspec

    from ingest.land.landing import unread_exports

    unread = unread_exports(fsspec.filesystem("file"), str(root.resolve()), export_date)
    for path in unread:
        print(f"not read: {path} (in a folder no source reads)")


def _folder_files(root: Path, export_date: dt.date, only: str | None) -> list[tuple[str, Path]]:
    from ingest.land.landing import is_marker
    from ingest.rules.layouts import SOURCES

    return [
        (source, path)
        for source in SOURCES
        if only in (None, source)
        for path in sorted((root / source / export_date.isoformat()).glob("*"))
        if path.is_file() and not path.name.startswith(".") and not is_marker(path.name)
    ]


def inspect_file(path: Path, source: str | None, export_date: dt.date) -> bool:
    """Print how the file would be read; True when it would load (the night would not stop on it)."""
    from ingest.rules.layouts import SOURCES, layout_for, load_layouts

    print(f"\n{path.name}")
    sources = [source] if source else list(SOURCES)
    matches = [(s, x) for s in sources for x in [layout_for(s, path.name)] if x]
    chosen = matches[0] if matches else None
    if len(matches) > 1:
        others = ", ".join(s for s, _ in matches[1:])
        print(f"  note:       read as {chosen[0]}; the name also matches {others}: give --source")
    if chosen is None:
        patterns = "; ".join(f"{x.name}: {x.file_pattern.pattern}" for s in sources for x in load_layouts(s))
        print(f"  layout:     none — the name matches no layout's file name pattern ({patterns})")
        return False
    source, layout = chosen
    print(f"  layout:     {layout.name} (source {source}; the name matches {layout.file_pattern.pattern})")
    with tempfile.TemporaryDirectory(prefix="socorg-inspect-") as tmp:
        return _read(path, layout, export_date, Path(tmp))


def _read(path: Path, layout, export_date: dt.date, tmp: Path) -> bool:
    from ingest.parse.files import parse_file
    from ingest.parse.readers import open_export
    from ingest.rules.formats import DELIMITER_NAMES

    try:
        export = open_export(path, layout)
        load = parse_file(path, path.name, layout, export_date, tmp / "raw", tmp / "quarantine", "-")
    except SocorgError as exc:
        print(f"  REFUSED:    {exc}")
        return False
    print(f"  encoding:   {export.encoding}")
    if export.delimiter:
        how = "pinned by the layout" if layout.delimiter else "detected"
        print(f"  delimiter:  {DELIMITER_NAMES[export.delimiter]} ({how})")
    titles = f" (below {export.title_rows} title or metadata rows)" if export.title_rows else ""
    print(f"  header:     row {export.header_row}{titles}")
    for index, column in export.columns:
        personal = " (personal data: never loaded)" if column.personal else ""
        print(f"    {export.headers[index]} → {column.name}{personal}")
    for header in export.unknown_headers:
        print(f"    {header} → unknown (not loaded)")
    total = f", its total {load.footer_total}" if load.footer_total is not None else ""
    print(f"  footer:     {load.footer_rows} lines{total}" if load.footer_rows else "  footer:     none")
    counts = f"{load.rows_read} read, {load.rows_loaded} would load, {load.rows_quarantined} quarantined"
    print(f"  rows:       {counts}")
    _quarantined(tmp / "quarantine", load.quarantine_reasons)
    stops = _would_stop(layout, load)
    print(f"  verdict:    {'the night would STOP: ' + stops if stops else 'would load'}")
    return not stops


def _quarantined(folder: Path, reasons: dict[str, int]) -> None:
    """Each quarantine reason with up to three examples (row and cell; personal values masked), and the
    labels no rule knows by count."""
    import duckdb

    from ingest.common.sql import sql_path
    from ingest.rules.layouts import personal_columns
    from ingest.rules.personal import mask
    from ingest.rules.typing_rules import INDIVIDUAL_COLUMNS

    files = sorted(folder.glob("*.parquet"))
    paths = ", ".join(map(sql_path, files))
    rows = (
        duckdb.sql(
            f"select reason, source_row, column_name, value from read_parquet([{paths}]) order by source_row"
        ).fetchall()
        if files
        else []
    )
    hidden = personal_columns() | set(INDIVIDUAL_COLUMNS) | {"member_key"}
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        examples = [
            f"row {row}" + (f" {column}={mask(value) if column in hidden else value!r}" if column else "")
            for r, row, column, value in rows
            if r == reason
        ][:EXAMPLES]
        print(f"    {count} {reason}: {'; '.join(examples)}")
    labels = Counter((c, v) for r, _, c, v in rows if r.endswith("_unknown") and v is not None)
    for (column, label), count in labels.most_common():
        print(f"    unknown label: {column} {label!r} × {count}")


def _would_stop(layout, load) -> str:
    """Why the night would stop on this file alone ('' when it would not): the gate's rules
    (ingest.validate.checks), the file taken as its source's whole night."""
    from ingest.validate.checks import too_many_quarantined

    read, bad = load.rows_read, load.rows_quarantined
    if read and bad == read:
        return f"every one of its {read} rows would be quarantined"
    if too_many := too_many_quarantined(layout, read, bad):
        return too_many
    if layout.source == "registry" and read == 0:
        return "a registry export with no rows"
    return ""
