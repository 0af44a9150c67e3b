"""Pull the night's exports from the exports root (any fsspec URL) into landing/, byte for byte."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.errors import ExportError, ExportMissingError
from ingest.files import write_json_atomically
from ingest.layouts import SOURCES, layout_for

log = logging.getLogger(__name__)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")
CHUNK = 1 << 20
REQUIRED_SOURCES = ("registry",)


@dataclass(frozen=True)
class LandedFile:
    """One export copied into landing/: where it came from, where it is, and its hash."""

    source: str
    export_date: str
    name: str
    origin: str
    path: str
    sha256: str
    bytes: int
    already_landed: bool
    version: int = 1
    superseded: bool = False


def safe_file_name(name: str, source: str) -> str:
    """Accept a file name from outside only if it cannot steer a path on our side."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise ExportError(name, f"is not an acceptable {source} file name (letters, digits, _ . - only)")
    if layout_for(source, name) is None:
        raise ExportError(name, f"does not match the {source} file name pattern")
    return name


def source_folder(exports_root: str, source: str, export_date: dt.date) -> str:
    """Where a source's exports of a date are expected, as the user wrote the root."""
    return f"{exports_root.rstrip('/')}/{source}/{export_date.isoformat()}/"


def list_exports(fs, root: str, source: str, export_date: dt.date) -> list[dict]:
    """The export files of a source and date; links are refused, sub-folders ignored."""
    folder = f"{root.rstrip('/')}/{source}/{export_date.isoformat()}"
    entries = fs.ls(folder, detail=True) if fs.isdir(folder) else []
    for entry in entries:
        if entry.get("islink"):
            name = entry["name"].rsplit("/", 1)[-1]
            raise ExportError(name, "is a symbolic link; exports are read only as regular files")
    return sorted((e for e in entries if e["type"] == "file"), key=lambda e: e["name"])


def land_night(
    exports_root: str, export_date: dt.date, data: Path, conn_id: str | None = None
) -> list[LandedFile]:
    """Copy every export of the date into landing/; the registry must be there, others may not."""
    from ingest.locations import open_root

    fs, root = open_root(exports_root, conn_id)
    landed: list[LandedFile] = []
    missing: list[str] = []
    for source in SOURCES:
        files = list_exports(fs, root, source, export_date)
        if not files:
            if source in REQUIRED_SOURCES:
                raise ExportMissingError(
                    f"export missing: no {source} export for {export_date.isoformat()} in "
                    f"{source_folder(exports_root, source, export_date)}"
                )
            missing.append(source)
        for entry in files:
            name = safe_file_name(entry["name"].rsplit("/", 1)[-1], source)
            current = _copy(fs, entry["name"], source, export_date, name, data)
            landed += [current, *superseded_versions(current)]
    for source in missing:
        folder = source_folder(exports_root, source, export_date)
        log.warning("no %s exports for %s in %s", source, export_date, folder)
    manifest = landing_manifest(data, export_date)
    content = {"files": [asdict(f) for f in landed], "missing_sources": missing}
    write_json_atomically(manifest, content)
    return landed


def _copy(fs, origin: str, source: str, export_date: dt.date, name: str, data: Path) -> LandedFile:
    target = data / "landing" / source / export_date.isoformat() / name
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{name}.part")
    digest, size = hashlib.sha256(), 0
    with fs.open(origin, "rb") as src, tmp.open("wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    sha = digest.hexdigest()
    for number, version in enumerate(_versions(target), start=1):
        already = version.exists()
        if already and _sha256(version) != sha:
            continue
        if already:
            tmp.unlink()
        else:
            tmp.replace(version)
        date = export_date.isoformat()
        return LandedFile(source, date, name, origin, str(version), sha, size, already, number)
    raise AssertionError("unreachable")


def superseded_versions(current: LandedFile) -> list[LandedFile]:
    """Earlier deliveries of the same file name with other content, kept in landing/ and logged."""
    first = Path(current.path).with_name(current.name)
    others = []
    for number, version in enumerate(_versions(first), start=1):
        if not version.exists():
            break
        if number != current.version:
            size = version.stat().st_size
            others.append(
                LandedFile(
                    current.source,
                    current.export_date,
                    current.name,
                    current.origin,
                    str(version),
                    _sha256(version),
                    size,
                    True,
                    number,
                    superseded=True,
                )
            )
    return others


def _versions(target: Path):
    """The file's landed name, then `<stem>.v2<ext>`, `.v3`, … for re-deliveries with new content."""
    yield target
    stem, suffix = target.name.rsplit(".", 1)
    version = 2
    while True:
        yield target.with_name(f"{stem}.v{version}.{suffix}")
        version += 1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def landing_manifest(data: Path, export_date: dt.date) -> Path:
    """The list of files landed for a night, read by the parse step."""
    return data / "runs" / export_date.isoformat() / "landed.json"


def read_manifest(data: Path, export_date: dt.date) -> list[LandedFile]:
    """The files the land step recorded for this night."""
    content = json.loads(landing_manifest(data, export_date).read_text(encoding="utf-8"))
    return [LandedFile(**row) for row in content["files"]]


def missing_sources(data: Path, export_date: dt.date) -> list[str]:
    """Optional sources that had no export this night (reported, not fatal)."""
    content = json.loads(landing_manifest(data, export_date).read_text(encoding="utf-8"))
    return content["missing_sources"]
