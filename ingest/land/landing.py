"""Pull the night's exports from the exports root (any fsspec URL) into landing/, byte for byte."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.common.errors import (
    EXPORT_MISSING,
    DiskFullError,
    ExportError,
    ExportIncompleteError,
    ExportMissingError,
    StateError,
)
from ingest.common.files import in_threads, json_field, read_json, sha256_of, write_json_atomically
from ingest.common.known_hashes import KnownHashes, file_identity, known_hashes_file
from ingest.rules.formats import READABLE, extension
from ingest.rules.layouts import SOURCES, STANDING_SOURCES, layout_for, load_layouts

log = logging.getLogger(__name__)
# Letters of any script (a publisher is named in Chinese: funding_苏州市财政局_2023.xlsx), digits, _ . -;
# no separators, no leading dot: a name from outside cannot steer a path on our side.
SAFE_NAME = re.compile(r"^[^\W_][\w.-]{0,200}$")
CHUNK = 1 << 20
REQUIRED_SOURCES = ("registry",)
DONE_SUFFIX, SUCCESS_MARKER = ".done", "_SUCCESS"
MAX_WATCH_SECONDS = 60
CHANGING = "last changed"  # how not_ready says a file is still being written (not a missing marker)


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
        if extension(name) not in READABLE:
            raise ExportError(name, f"is not a format socorg reads (.{', .'.join(READABLE)})")
        patterns = "; ".join(x.file_pattern.pattern for x in load_layouts(source))
        raise ExportError(name, f"does not match the {source} file name pattern ({patterns})")
    return name


def source_folder(exports_root: str, source: str, export_date: dt.date) -> str:
    """Where a source's exports of a date are expected, as the user wrote the root."""
    return f"{exports_root.rstrip('/')}/{source}/{export_date.isoformat()}/"


def is_marker(name: str) -> bool:
    """A completion marker (`<file>.done`, `_SUCCESS`) says an export is whole; it is not an export."""
    return name == SUCCESS_MARKER or name.endswith(DONE_SUFFIX)


def list_exports(fs, root: str, source: str, export_date: dt.date) -> list[dict]:
    """The export files of a source and date; links are refused, sub-folders and markers ignored."""
    folder = f"{root.rstrip('/')}/{source}/{export_date.isoformat()}"
    entries = fs.ls(folder, detail=True) if fs.isdir(folder) else []
    for entry in entries:
        if entry.get("islink"):
            name = entry["name"].rsplit("/", 1)[-1]
            raise ExportError(name, "is a symbolic link; exports are read only as regular files")
    files = (e for e in entries if e["type"] == "file" and not is_marker(e["name"].rsplit("/", 1)[-1]))
    return sorted(files, key=lambda e: e["name"])


def unread_exports(fs, root: str, export_date: dt.date) -> list[str]:
    """The files under the exports root for the date that no source reads, by path under the root: a
    folder `<name>/<date>/` whose name is not a source (`inspections/`, a misspelt `registries/`), or a
    sub-folder of a source's night folder. They are named, never skipped without a word."""
    base = root.rstrip("/")
    date = export_date.isoformat()
    found: list[str] = []
    for entry in fs.ls(base, detail=True) if fs.isdir(base) else []:
        name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
        folder = f"{base}/{name}/{date}"
        if entry["type"] != "directory" or not fs.isdir(folder):
            continue
        if name in SOURCES:  # a source's own files are read; a folder inside its night is not
            inner = [e["name"] for e in fs.ls(folder, detail=True) if e["type"] == "directory"]
        else:
            inner = [folder]
        found += [path for sub in inner for path in fs.find(sub)]
    return sorted(p.split(base, 1)[-1].lstrip("/") for p in found)


def export_dates(fs, root: str, source: str = "registry") -> list[dt.date]:
    """The dates the exports root holds export files of a source for (folders `<source>/YYYY-MM-DD/`
    with at least one file), oldest first; other folder names are not dates and are left out."""
    folder = f"{root.rstrip('/')}/{source}"
    if not fs.isdir(folder):
        return []
    dates = []
    for entry in fs.ls(folder, detail=True):
        name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
        try:
            day = dt.date.fromisoformat(name)
        except ValueError:
            continue
        if entry["type"] == "directory" and name == day.isoformat() and list_exports(fs, root, source, day):
            dates.append(day)
    return sorted(dates)


def settle_seconds() -> float:
    """How long an export must have stayed unchanged to count as whole: `SOCORG_SETTLE_SECONDS` (60)."""
    return float(os.environ.get("SOCORG_SETTLE_SECONDS") or 60)


def completion_markers() -> dict[str, str]:
    """Per source, the marker that says its exports are whole: `SOCORG_COMPLETION_MARKERS`, written
    `registry=.done,membership=_SUCCESS` (`.done`: a `<file>.done` beside each file; `_SUCCESS`: one
    in the night's folder). Sources not named need none."""
    markers = {}
    for item in filter(None, (x.strip() for x in os.environ.get("SOCORG_COMPLETION_MARKERS", "").split(","))):
        source, _, marker = item.partition("=")
        if source.strip() not in SOURCES or marker.strip() not in (DONE_SUFFIX, SUCCESS_MARKER):
            raise ExportError(
                "SOCORG_COMPLETION_MARKERS",
                f"expected source=.done or source=_SUCCESS with a source of {', '.join(SOURCES)}; "
                f"got {item!r}",
            )
        markers[source.strip()] = marker.strip()
    return markers


def modified_at(entry: dict) -> float | None:
    """An fsspec listing entry's modification time as a POSIX timestamp (local, SFTP, S3 name it
    differently), None when the storage does not say."""
    value = entry.get("mtime", entry.get("LastModified", entry.get("last_modified")))
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return float(value) if isinstance(value, (int, float)) else None


def not_ready(
    fs, root: str, export_date: dt.date, seen: dict | None = None, listed: dict | None = None
) -> dict[str, list[str]]:
    """Per source, why its exports of the night cannot be landed yet: files still changing or their
    completion markers missing (sources that are whole are left out). A file is whole once its
    modification time is the settle time old, or — when the storage's clock is off or says nothing —
    once `seen` (kept between calls: see settle_record) has watched its size and modification time
    stay the same for the settle time."""
    settle, markers, now = settle_seconds(), completion_markers(), time.time()
    seen = {} if seen is None else seen
    waiting: dict[str, list[str]] = {}
    for source in SOURCES:
        files = listed[source] if listed is not None else list_exports(fs, root, source, export_date)
        folder = f"{root.rstrip('/')}/{source}/{export_date.isoformat()}"
        marker = markers.get(source)
        reasons = []
        if files and marker == SUCCESS_MARKER and not fs.exists(f"{folder}/{SUCCESS_MARKER}"):
            reasons.append(f"{source}: no {SUCCESS_MARKER} marker in {folder} yet")
        for entry in files:
            name = entry["name"].rsplit("/", 1)[-1]
            if marker == DONE_SUFFIX and not fs.exists(entry["name"] + DONE_SUFFIX):
                reasons.append(f"{source}/{name}: no {name}{DONE_SUFFIX} marker yet")
            state = [entry.get("size"), modified_at(entry)]
            if seen.get(entry["name"], [None, None, 0])[:2] != state:
                seen[entry["name"]] = [*state, now]
            watched = now - seen[entry["name"]][2]
            age = now - state[1] if state[1] is not None else None
            if (age is None or age < settle) and watched < settle:
                when = f"{age:.0f} s ago" if age is not None else "at a time the storage does not say"
                reasons.append(
                    f"{source}/{name}: {CHANGING} {when}; an export counts as whole once unchanged for "
                    f"{settle:g} s (SOCORG_SETTLE_SECONDS)"
                )
        if reasons:
            waiting[source] = reasons
    return waiting


def settle_record(data: Path, export_date: dt.date) -> Path:
    """`runs/<date>/settle.json`: each export's size and time as first seen, kept between the
    sensor's pokes and the land step, so that what the sensor watched settle is landed."""
    return data / "runs" / export_date.isoformat() / "settle.json"


def watched_exports(data: Path, export_date: dt.date) -> dict:
    """What settle_record holds (nothing when it is missing or damaged: watching starts again)."""
    try:
        seen = read_json(settle_record(data, export_date), default={})
    except StateError:
        return {}
    return seen if isinstance(seen, dict) else {}


def wait_until_whole(fs, root: str, export_date: dt.date, data: Path) -> dict[str, list[str]]:
    """not_ready, watched for up to a settle time (a minute at most: a sensor's poke should not block
    longer): what is still not whole after it, empty when all is. What was seen is kept for the next
    poke and for the land step."""
    seen = watched_exports(data, export_date)
    until = time.monotonic() + min(settle_seconds(), MAX_WATCH_SECONDS) + 1
    while True:
        waiting = not_ready(fs, root, export_date, seen)
        if not waiting or time.monotonic() >= until:
            break
        time.sleep(min(1.0, max(0.0, until - time.monotonic())))
        fs.invalidate_cache()
    try:
        write_json_atomically(settle_record(data, export_date), seen)
    except OSError as exc:  # a full disk: watching starts again next time
        log.warning("could not keep what was seen of the exports: %s", exc)
    return waiting


def check_free_space(data: Path, export_bytes: int) -> None:
    """Refuse a night the data folder has no room for: its exports twice over (landed copies, then
    raw/, the warehouse and publish/) plus a margin, `SOCORG_FREE_SPACE_MARGIN_MB` (500)."""
    margin = int(float(os.environ.get("SOCORG_FREE_SPACE_MARGIN_MB") or 500) * (1 << 20))
    data.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(data).free
    needed = 2 * export_bytes + margin
    if free < needed:
        mib = 1 << 20
        raise DiskFullError(
            f"not enough free space in {data}: {free / mib:,.1f} MiB free, the night needs about "
            f"{needed / mib:,.1f} MiB (2 × its {export_bytes / mib:,.1f} MiB of exports + a margin of "
            f"{margin / mib:,.0f} MiB, SOCORG_FREE_SPACE_MARGIN_MB); free some space (or prune releases: "
            "SOCORG_KEEP_RELEASES) and run the night again"
        )


def land_night(
    exports_root: str, export_date: dt.date, data: Path, conn_id: str | None = None
) -> list[LandedFile]:
    """Copy every export of the date into landing/; the registry must be there, others may not."""
    from ingest.land.storage import is_local, open_root

    fs, root = open_root(exports_root, conn_id)
    listed = {source: list_exports(fs, root, source, export_date) for source in SOURCES}
    waiting = not_ready(fs, root, export_date, watched_exports(data, export_date), listed)
    required = [reason for source in REQUIRED_SOURCES for reason in waiting.get(source, [])]
    if required:
        raise ExportIncompleteError(
            f"exports of {export_date.isoformat()}",
            "not landed yet, still being written?\n  " + "\n  ".join(required),
        )
    for source, reasons in waiting.items():  # an optional source not whole is left out, as if missing
        log.warning("%s exports of %s are not whole, left out: %s", source, export_date, "; ".join(reasons))
        listed[source] = []
    check_free_space(data, sum(int(e.get("size") or 0) for files in listed.values() for e in files))
    landed: list[LandedFile] = []
    missing: list[str] = []
    known = KnownHashes(known_hashes_file(data, export_date)) if is_local(fs) else None
    for source in SOURCES:
        files = listed[source]
        if not files:
            if source in REQUIRED_SOURCES:
                raise ExportMissingError(
                    f"{EXPORT_MISSING} no {source} export for {export_date.isoformat()} in "
                    f"{source_folder(exports_root, source, export_date)}"
                )
            if source not in STANDING_SOURCES:  # lists published once a year: held until replaced
                missing.append(source)
        named = [(entry, safe_file_name(entry["name"].rsplit("/", 1)[-1], source)) for entry in files]
        copied = in_threads(
            lambda job, source=source: _land(fs, *job, source, export_date, data, known), named, is_local(fs)
        )
        landed += [landed_file for versions in copied for landed_file in versions]
    for source in missing:
        folder = source_folder(exports_root, source, export_date)
        log.warning("no %s exports for %s in %s", source, export_date, folder)
    unread = unread_exports(fs, root, export_date)
    if unread:
        _note_unread(data, export_date, exports_root, unread)
    if known:
        known.save()
    manifest = landing_manifest(data, export_date)
    content = {"files": [asdict(f) for f in landed], "missing_sources": missing, "not_read": unread}
    write_json_atomically(manifest, content)
    return landed


def _note_unread(data: Path, export_date: dt.date, exports_root: str, unread: list[str]) -> None:
    """Say which delivered files the night does not read (the release's issues.json and the CLI)."""
    from ingest.common.notes import add_note

    message = unread_message(exports_root, export_date, unread)
    log.warning(message)
    add_note(data, export_date, "not_read", message)


def unread_message(exports_root: str, export_date: dt.date, unread: list[str]) -> str:
    """How delivered files no source reads are named (unread_exports), the first five by path."""
    shown = ", ".join(unread[:5]) + (f" and {len(unread) - 5} more" if len(unread) > 5 else "")
    return (
        f"{len(unread)} file(s) under {exports_root.rstrip('/')}/ for {export_date.isoformat()} are in "
        f"folders no source reads, and were not landed: {shown} (the sources read: {', '.join(SOURCES)}, "
        f"each as <source>/{export_date.isoformat()}/<file>)"
    )


def _land(
    fs, entry: dict, name: str, source: str, export_date: dt.date, data: Path, known: KnownHashes | None
) -> list[LandedFile]:
    """One export copied into landing/ (a thread of land_night), with its earlier deliveries. A local
    export's hash is remembered by its identity in `known` (the unchanged check then need not read it)."""
    identity = file_identity(entry["name"]) if known else None
    current = _copy(fs, entry, source, export_date, name, data)
    if known:
        known.remember(entry["name"], current.sha256, identity)
    return [current, *superseded_versions(current)]


def _copy(fs, entry: dict, source: str, export_date: dt.date, name: str, data: Path) -> LandedFile:
    origin = entry["name"]
    target = data / "landing" / source / export_date.isoformat() / name
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{name}.part")
    digest, size = hashlib.sha256(), 0
    try:
        with fs.open(origin, "rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
        if entry.get("size") is not None and size != entry["size"]:
            raise ExportIncompleteError(
                name,
                f"changed while it was being landed ({entry['size']} bytes listed, {size} read): "
                "still being written?",
            )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sha = digest.hexdigest()
    for number, version in enumerate(_versions(target), start=1):
        already = version.exists()
        if already and sha256_of(version) != sha:
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
                    sha256_of(version),
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


def landing_manifest(data: Path, export_date: dt.date) -> Path:
    """The list of files landed for a night, read by the parse step."""
    return data / "runs" / export_date.isoformat() / "landed.json"


def read_manifest(data: Path, export_date: dt.date) -> list[LandedFile]:
    """The files the land step recorded for this night."""
    path = landing_manifest(data, export_date)
    return [LandedFile(**row) for row in json_field(path, read_json(path), "files")]


def missing_sources(data: Path, export_date: dt.date) -> list[str]:
    """Optional sources that had no export this night (reported, not fatal)."""
    path = landing_manifest(data, export_date)
    return list(json_field(path, read_json(path), "missing_sources"))
