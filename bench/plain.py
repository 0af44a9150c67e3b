"""What the floor and the peer scripts share: the night's files, header aliases, value maps, seeds.

Everything here is data — the layouts' aliases and the value spellings — so that the two plain
scripts read the exports as a person who knows them would, without going through socorg's parser.
"""

from __future__ import annotations

import argparse
import codecs
import re
import shutil
from pathlib import Path

import yaml

from ingest.common.paths import PROJECT_ROOT, SEEDS_DIR
from ingest.rules.layouts import personal_columns
from ingest.rules.typing_rules import ENUMS

LAYOUTS = PROJECT_ROOT / "ingest" / "rules" / "layouts"
VALUE_MAPS = {  # raw column → its spellings
    column: ENUMS[kind][0]
    for column, kind in {
        "org_type": "org_type", "status": "org_status", "member_kind": "member_kind",
        "role": "member_role", "member_status": "member_status", "qualification": "qualification",
    }.items()
}  # fmt: skip
PERSONAL = personal_columns()
FULLWIDTH = ("０１２３４５６７８９－Ａ", "0123456789-A")
DATASETS = ("organizations", "memberships", "enterprises", "clusters", "registry_stats", "city_summary")
# What the three runs are compared on: each city's summary figures, and the rows per dataset.
SUMMARY_FIGURES = (
    "active_org_count",
    "social_group_count",
    "social_service_org_count",
    "foundation_count",
    "cluster_count",
    "clusters_with_association",
    "cluster_association_count",
    "cluster_member_enterprise_count",
    "listed_count",
    "srdi_count",
    "high_tech_count",
)


def aliases(source: str) -> dict[str, list[str]]:
    """Canonical column → the header spellings of the source's layout, personal columns left out."""
    layout = yaml.safe_load((LAYOUTS / f"{source}.yaml").read_text(encoding="utf-8"))
    return {name: spec["aliases"] for name, spec in layout["columns"].items() if name not in PERSONAL}


# Rows above the header in each source's CSV exports (a registry's title line).
SKIP_ROWS = {"registry": 1, "membership": 0, "qualifications": 0}
SPREADSHEETS = (".xlsx", ".xls")
DATE_COLUMNS = ("registered_on", "rating_valid_until", "joined_on", "valid_until")


def night_files(exports: Path, source: str, export_date: str, scratch: Path) -> list[Path]:
    """Every export of a source and night as a CSV shaped like the source's CSV exports: the CSV files
    themselves, and a CSV written into `scratch` of each spreadsheet (a bureau's .xlsx registry, an
    association's .xlsx member list) — the files socorg reads, so that all three do the same work."""
    folder = exports / source / export_date
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", *SPREADSHEETS))
    return [_spreadsheet_as_csv(p, source, scratch) if p.suffix.lower() in SPREADSHEETS else p for p in files]


def _spreadsheet_as_csv(path: Path, source: str, scratch: Path) -> Path:
    """The first sheet from its header row on (found by the layout's header spellings), with the
    source's title lines above it, Excel's serial dates as dates and whole numbers without `.0`."""
    import csv
    import datetime as dt

    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    spellings = {s: name for name, names in aliases(source).items() for s in names}
    header_at = next(i for i, row in enumerate(rows) if sum(str(c).strip() in spellings for c in row) >= 2)
    header = [str(c).strip() for c in rows[header_at]]
    dates = {i for i, h in enumerate(header) if spellings.get(h) in DATE_COLUMNS}

    def cell(i: int, value) -> str:
        if isinstance(value, float) and i in dates:
            return (dt.date(1899, 12, 30) + dt.timedelta(days=int(value))).isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return "" if value is None else str(value)

    out = scratch / f"{path.stem}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerows([["title"]] * SKIP_ROWS[source])
        writer.writerow(header)
        writer.writerows([cell(i, v) for i, v in enumerate(row)] for row in rows[header_at + 1 :])
    return out


def file_code(path: Path) -> str:
    """The city code of a registry file, or the association's credit code of a membership file."""
    return re.match(r"^[a-z]+_([0-9A-Za-z]+)_\d{8}\.csv$", path.name).group(1)


def in_a_city(city_code: str | None) -> bool:
    """Whether organizations placed in this code count in a city's figures: socorg counts those a
    province registered itself (placed in the province's code, `320000`) in province_summary only."""
    return bool(city_code) and not city_code.endswith("0000")


def is_utf8(path: Path) -> bool:
    """Whether the file's first MiB is UTF-8 (with or without BOM); the other exports are GB18030."""
    with path.open("rb") as fh:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(fh.read(1 << 20))
        except UnicodeDecodeError:
            return False
    return True


def to_utf8(path: Path, folder: Path) -> Path:
    """The file itself when it is UTF-8, else a UTF-8 copy in `folder` (DuckDB reads no GB18030)."""
    if is_utf8(path):
        return path
    copy = folder / path.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    with (
        path.open(encoding="gb18030", newline="") as src,
        copy.open("w", encoding="utf-8", newline="") as dst,
    ):
        while block := src.read(1 << 20):
            dst.write(block)
    return copy


def seed(name: str) -> Path:
    """A dbt seed CSV (divisions, cluster taxonomy, designated associations, exhibition points)."""
    return SEEDS_DIR / f"{name}.csv"


def arguments(doc: str, argv: list[str] | None = None) -> argparse.Namespace:
    """--exports, --date and --out of a plain script; the out folder emptied for the run."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--exports", type=Path, required=True, help="exports root of the night")
    parser.add_argument("--date", required=True, help="export date YYYY-MM-DD")
    parser.add_argument("--out", type=Path, required=True, help="folder for raw/ and marts/ (emptied)")
    args = parser.parse_args(argv)
    shutil.rmtree(args.out, ignore_errors=True)
    return args
