"""A night whose exports, history and code are those of its intact release needs no rebuild."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import cache
from pathlib import Path

from ingest.common.errors import StateError
from ingest.common.files import in_threads, json_field, read_json, sha256_of
from ingest.common.known_hashes import KnownHashes, night_hashes
from ingest.common.paths import DBT_DIR, PROJECT_ROOT
from ingest.common.releases import latest_snapshot, release_dir, releases
from ingest.publish.release import verify

# What decides a night's marts besides its exports: the package (code, rules, layouts, suites) and dbt.
CODE_FOLDERS = (PROJECT_ROOT / "ingest", DBT_DIR / "models", DBT_DIR / "macros", DBT_DIR / "seeds",
                DBT_DIR / "tests")  # fmt: skip
CODE_SUFFIXES = {".py", ".yaml", ".yml", ".sql", ".csv", ".json"}


def code_files() -> list[Path]:
    """The pipeline's own files: package (rules, layouts and suites included) and dbt project."""
    files = [DBT_DIR / "dbt_project.yml"]
    for folder in CODE_FOLDERS:
        files += [p for p in folder.rglob("*") if p.suffix in CODE_SUFFIXES and _is_source(p, folder)]
    return sorted(files)


def code_fingerprint() -> str:
    """SHA-256 over the pipeline's own files (code_files()) and the site folder's, by path: a changed
    layout in either builds the night again."""
    from ingest.rules.site import site_dir, site_files

    files = site_files()
    if not files:
        return _package_fingerprint()
    digest = hashlib.sha256(_package_fingerprint().encode())
    for path in files:
        digest.update(path.relative_to(site_dir()).as_posix().encode() + b"\0")
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()


@cache
def _package_fingerprint() -> str:
    """SHA-256 over the pipeline's own files (code_files()), by path."""
    digest = hashlib.sha256()
    for path in code_files():
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0")
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()


def _is_source(path: Path, folder: Path) -> bool:
    """Not caches."""
    return path.is_file() and "__pycache__" not in path.relative_to(folder).parts


def night_inputs(data: Path, export_date: dt.date) -> list[dict]:
    """The night's current landed files (source, name, version, sha256), as the land step recorded them."""
    from ingest.land.landing import read_manifest

    files = [f for f in read_manifest(data, export_date) if not f.superseded]
    return sorted(
        ({"source": f.source, "name": f.name, "version": f.version, "sha256": f.sha256} for f in files),
        key=lambda f: (f["source"], f["name"]),
    )


def night_fingerprint(data: Path, export_date: dt.date, code: str | None = None) -> str:
    """What the night's release is built from: its inputs, the code, and the release before it.

    Chaining the previous release's fingerprint makes a night whose earlier nights changed (history
    marts read them) a different night, even with the same exports.
    """
    content = {
        "inputs": night_inputs(data, export_date),
        "code": code or code_fingerprint(),
        "previous": previous_fingerprint(data, export_date),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def previous_fingerprint(data: Path, export_date: dt.date) -> str | None:
    """The fingerprint of the release before this night's, as publish/ holds them now."""
    publish = data / "publish"
    earlier = [d for d in releases(publish) if d < export_date.isoformat()]
    return _index(publish, earlier[-1]).get("fingerprint") if earlier else None


def previous_changed(data: Path, export_date: dt.date) -> bool:
    """Whether an earlier night was published after this night's release, and differs from what the
    release was built on: its history is then out of date. (A release whose predecessor was pruned,
    or built before releases recorded theirs, is left as it is.)"""
    publish = data / "publish"
    index = _index(publish, export_date.isoformat())
    earlier = [d for d in releases(publish) if d < export_date.isoformat()]
    if "previous_fingerprint" not in index or not earlier:
        return False
    before = _index(publish, earlier[-1])
    later = str(before.get("published_at") or "") > str(index.get("published_at") or "")
    return later and index["previous_fingerprint"] != before.get("fingerprint")


def unchanged_release(data: Path, export_date: dt.date, known: KnownHashes | None = None) -> str | None:
    """Why the night needs no rebuild, or None when it does.

    It needs none when its release has the fingerprint this run would give, is whole (every file
    hashes as its index says; one not written to since it was last hashed is not read again), is
    listed in versions.json, and latest.json is at it or past it.
    """
    publish = data / "publish"
    date = export_date.isoformat()
    index = _index(publish, date)
    if not index or index.get("fingerprint") != night_fingerprint(data, export_date):
        return None
    if latest_snapshot(publish) < date or not _listed(publish, date):
        return None
    with night_hashes(data, export_date, known) as known:
        if verify(release_dir(publish, date), known):
            return None
    return (
        f"exports unchanged since the release of {date} published at {index.get('published_at')} "
        f"(same files, code and earlier nights): nothing to rebuild; run with force to rebuild"
    )


def current_release(data: Path, exports: str, export_date: dt.date, conn_id: str | None = None) -> str | None:
    """What `socorg run` says of a night that needs no run at all, or None: the exports root holds the
    very files its last land step landed (names and sha256), and its release is current
    (unchanged_release) — or was published and then pruned by retention (a night not to publish
    again only to prune it). Asked before Airflow starts: a night loaded before costs a listing and a
    hash of its files. Anything that keeps it from telling (an exports root it cannot read, a damaged
    record) means: run the night, which says what is wrong. Delivered files no source reads are
    named after the reason."""
    from ingest.land.landing import unread_exports, unread_message
    from ingest.land.storage import open_root

    try:
        fs, root = open_root(exports, conn_id)
        with night_hashes(data, export_date) as known:  # read and saved once for both checks
            if not exports_landed(fs, root, data, export_date, known):
                return None
            current = unchanged_release(data, export_date, known)
        if current:
            reason = (
                f"{export_date} is published and its exports are unchanged since its release; nothing rebuilt"
            )
        elif pruned_release(data, export_date):
            reason = (
                f"{export_date} was published and pruned since (SOCORG_KEEP_RELEASES), its exports are "
                "unchanged; not built again"
            )
        else:
            return None
        # Files delivered beside the exports that no source reads are named here too, not only by a
        # night that lands them.
        unread = unread_exports(fs, root, export_date)
        return reason + (f"\n  note: {unread_message(exports, export_date, unread)}" if unread else "")
    except Exception:  # noqa: BLE001 (see above: the night's own run reports it)
        return None


def changes_history(data: Path, exports: str, export_date: dt.date, conn_id: str | None = None) -> bool:
    """Whether building the night makes a release unlike the one it has (none yet, other exports, other
    code or earlier nights): then each later release, whose history builds on it, is built again."""
    from ingest.land.storage import open_root

    index = _index(data / "publish", export_date.isoformat())
    try:
        fs, root = open_root(exports, conn_id)
        if not index or not exports_landed(fs, root, data, export_date):
            return True
        return index.get("fingerprint") != night_fingerprint(data, export_date)
    except Exception:  # noqa: BLE001 (cannot tell: say it may)
        return True


def pruned_release(data: Path, export_date: dt.date) -> bool:
    """Whether the night's release was published and pruned by retention, from the inputs it was built
    from (release.pruned_releases) — the inputs landed now."""
    from ingest.publish.release import pruned_releases

    record = pruned_releases(data / "publish").get(export_date.isoformat())
    return record is not None and record.get("inputs") == night_inputs(data, export_date)


def exports_landed(fs, root: str, data: Path, export_date: dt.date, known: KnownHashes | None = None) -> bool:
    """The exports root holds for the night exactly the files the land step recorded: the same names,
    sizes and sha256, no file more or less. A local export not written to since it was hashed is not
    read again (known_hashes)."""
    from ingest.land.landing import landing_manifest, list_exports, read_manifest
    from ingest.land.storage import is_local
    from ingest.rules.layouts import SOURCES

    if not landing_manifest(data, export_date).exists():
        return False
    landed = {(f.source, f.name): f for f in read_manifest(data, export_date) if not f.superseded}
    listed = {
        (source, entry["name"].rsplit("/", 1)[-1]): entry
        for source in SOURCES
        for entry in list_exports(fs, root, source, export_date)
    }
    if landed.keys() != listed.keys():
        return False
    if any(e.get("size") is not None and int(e["size"]) != landed[k].bytes for k, e in listed.items()):
        return False

    def read(name: str) -> str:
        digest = hashlib.sha256()
        with fs.open(name, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    expected = [landed[key].sha256 for key in listed]
    if not is_local(fs):
        return [read(entry["name"]) for entry in listed.values()] == expected
    with night_hashes(data, export_date, known) as known:
        return in_threads(known.sha256, (entry["name"] for entry in listed.values())) == expected


def _index(publish: Path, date: str) -> dict:
    try:
        return read_json(release_dir(publish, date) / "index.json", default={})
    except StateError:  # a damaged release is no release to keep: the night is built again
        return {}


def _listed(publish: Path, date: str) -> bool:
    path = publish / "versions.json"
    listed = json_field(path, read_json(path, default={"releases": []}), "releases")
    return any(item["snapshot_date"] == date for item in listed)
