"""Releases on object storage: uploaded whole (latest.json last), verified and pruned there."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ingest.common import progress
from ingest.common.errors import SocorgError
from ingest.common.files import read_json, sha256_of, write_json_atomically
from ingest.common.releases import latest_file, latest_snapshot, release_dir
from ingest.publish.release import check_entry, doomed_releases, marts_db_record, release_paths

log = logging.getLogger(__name__)
PUBLISH_CONN_ID = "socorg_publish"  # the Airflow connection holding the bucket's credentials
URL_SETTING = "SOCORG_PUBLISH_URL"


class RemoteError(SocorgError):
    """Object storage could not be written or read: the network, the credentials, a full bucket. Worth a
    retry (a re-run uploads only what is missing)."""

    retryable = True


def publish_url(value: str | None = None) -> str | None:
    """Where releases are uploaded: the run's param, else `SOCORG_PUBLISH_URL`; None when unset."""
    url = (value or os.environ.get(URL_SETTING) or "").strip()
    return url.rstrip("/") or None


def without_credentials(url: str) -> str:
    """The URL as it may be shown and written down: any user and password in it removed.

    >>> without_credentials("s3://KEY:SECRET@bucket/socorg")
    's3://bucket/socorg'
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class Remote:
    """A publish folder on object storage (any fsspec URL): the same paths as `<data>/publish/`."""

    def __init__(self, url: str, conn_id: str | None = PUBLISH_CONN_ID) -> None:
        from ingest.land.storage import open_root

        self.url = without_credentials(url.rstrip("/"))
        try:
            self.fs, self.root = open_root(url.rstrip("/"), conn_id)
        except (ImportError, ValueError) as exc:
            raise SocorgError(f"{URL_SETTING}={self.url}: not a storage URL socorg can open ({exc})") from exc
        self.local = "file" in _protocols(self.fs)
        self.fs.invalidate_cache()  # another process may have written since this one last looked

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def url_of(self, relative: str) -> str:
        """The file's URL, for people and Asset events (no credentials)."""
        return f"{self.url}/{relative}"

    def size(self, relative: str) -> int | None:
        """The file's bytes on the remote, None when it is not there."""
        try:
            return int(self.fs.size(self.path(relative)))
        except FileNotFoundError:
            return None

    def sha256(self, relative: str) -> str:
        """The remote file's SHA-256, read back in 1 MiB blocks."""
        digest = hashlib.sha256()
        with self.fs.open(self.path(relative), "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def put(self, local: Path, relative: str) -> None:
        """Upload one file. An object store writes an object whole or not at all; on a shared folder the
        file is written beside its place and renamed into it, so that a reader never sees a part."""
        target = self.path(relative)
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        if not self.local:
            self.fs.put_file(str(local), target)
            return
        partial = f"{target}.{uuid.uuid4().hex[:8]}.part"
        try:
            self.fs.put_file(str(local), partial)
            self.fs.mv(partial, target)
        finally:
            if self.fs.exists(partial):
                self.fs.rm(partial)

    def read_json(self, relative: str, default: object = ...) -> object:
        """A JSON file of the remote; `default` when it is not there (if given)."""
        try:
            with self.fs.open(self.path(relative), "rb") as fh:
                return json.loads(fh.read().decode("utf-8"))
        except FileNotFoundError:
            if default is not ...:
                return default
            raise SocorgError(f"{self.url_of(relative)}: missing") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise SocorgError(f"{self.url_of(relative)}: damaged, not valid JSON ({exc})") from None

    def releases(self) -> list[str]:
        """Snapshot dates of the whole releases on the remote (those with an index.json), oldest first."""
        found = self.fs.glob(self.path("releases/*/index.json"))
        return sorted(p.rstrip("/").split("/")[-2] for p in found)

    def remove(self, relative: str) -> None:
        """Delete a file or a folder of the remote, if it is there."""
        if self.fs.exists(self.path(relative)):
            self.fs.rm(self.path(relative), recursive=True)


@dataclass
class Item:
    """One file of an upload: where it is here, where it goes, what it must hash to."""

    local: Path
    relative: str
    sha256: str
    bytes: int


def release_items(publish: Path, date: str) -> list[Item]:
    """A release's files in upload order: the Parquet and reports its index lists (with their hashes),
    statistics.json and issues.json, then index.json — a release is whole once its index is there."""
    folder = release_dir(publish, date)
    index = read_json(folder / "index.json")
    items = [
        Item(publish / e["path"], e["path"], e["sha256"], e["bytes"])
        for e in [*index["files"], *index.get("reports", [])]
    ]
    for name in ("statistics.json", "issues.json", "index.json"):
        items.append(_item(folder / name, f"releases/{date}/{name}"))
    return items


def _item(local: Path, relative: str) -> Item:
    return Item(local, relative, sha256_of(local), local.stat().st_size)


def ledger_file(data: Path, date: str) -> Path:
    """`runs/<date>/publish_remote.json`: the files of the night checked whole on the remote, by URL."""
    return data / "runs" / date / "publish_remote.json"


class Upload:
    """One night's upload: each file sent unless the remote holds it already, then checked (bytes and
    sha256 read back against the release index); what was checked is written down as it goes, so that
    a re-run after a cut sends only what is missing."""

    def __init__(self, remote: Remote, data: Path, date: str) -> None:
        self.remote, self.data, self.date = remote, data, date
        self.ledger = ledger_file(data, date)
        record = read_json(self.ledger, default={})
        same = isinstance(record, dict) and record.get("url") == remote.url
        self.checked: dict[str, str] = dict(record.get("files", {})) if same else {}
        self.sent = self.kept = 0

    def send(self, item: Item) -> None:
        if self.checked.get(item.relative) == item.sha256 and self.remote.size(item.relative) == item.bytes:
            self.kept += 1
            return
        try:
            there = self.remote.size(item.relative) == item.bytes
            if there and self.remote.sha256(item.relative) == item.sha256:
                self.kept += 1
            else:
                self.remote.put(item.local, item.relative)
                self.sent += 1
                found_bytes, found = self.remote.size(item.relative), self.remote.sha256(item.relative)
                if found_bytes != item.bytes or found != item.sha256:
                    raise RemoteError(
                        f"{self.remote.url_of(item.relative)}: uploaded, but reads back as {found_bytes} "
                        f"bytes sha256 {found}; {item.local} is {item.bytes} bytes sha256 {item.sha256}"
                    )
        except RemoteError:
            raise
        except Exception as exc:  # botocore, gcsfs, adlfs and OSError each raise their own kind
            raise RemoteError(
                f"upload of {item.relative} to {self.remote.url_of(item.relative)} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        self.checked[item.relative] = item.sha256
        write_json_atomically(self.ledger, {"url": self.remote.url, "files": self.checked})

    def write_json(self, relative: str, content: object) -> None:
        """A small JSON file of the remote's own (latest.json, versions.json), written whole."""
        staged = self.data / "tmp" / f"remote-{uuid.uuid4().hex[:8]}" / relative.rsplit("/", 1)[-1]
        write_json_atomically(staged, content)
        try:
            self.send(_item(staged, relative))
        finally:
            staged.unlink(missing_ok=True)
            staged.parent.rmdir()


def publish_remote(
    data: Path, export_date: dt.date | str, url: str, keep: int | None = None, keep_year_ends: bool = True
) -> dict:
    """Upload the night's local release to `url`: its files, then (when it is the local latest)
    marts.duckdb with its record, versions.json, the catalog page and latest.json last; then retention
    there. A failure leaves the remote latest.json where it was and raises RemoteError."""
    publish = data / "publish"
    date = str(export_date)
    if not (release_dir(publish, date) / "index.json").exists():
        raise SocorgError(f"{release_dir(publish, date)}: no whole local release of {date} to upload")
    remote = Remote(url)
    upload = Upload(remote, data, date)
    is_latest = latest_snapshot(publish) == date
    items = release_items(publish, date)
    if is_latest:
        record = read_json(marts_db_record(publish))
        if record.get("snapshot_date") == date:
            items += [
                Item(publish / "marts.duckdb", "marts.duckdb", record["sha256"], record["bytes"]),
                _item(marts_db_record(publish), marts_db_record(publish).name),
            ]
    for done, item in enumerate(items, 1):
        upload.send(item)
        progress.step("publish_remote", done, len(items), "files", item.relative)
    on_remote = remote.releases()
    pruned = doomed_releases(on_remote, keep, keep_year_ends) if keep else []
    kept = [d for d in on_remote if d not in pruned]
    latest = date if is_latest else (remote.read_json("latest.json", default={}) or {}).get("snapshot_date")
    upload.write_json("versions.json", _versions(publish, kept, latest))
    if is_latest:
        _write_pages(upload, publish)
        upload.send(_item(latest_file(publish), latest_file(publish).name))  # last: the release is whole
    for gone in pruned:
        remote.remove(f"releases/{gone}/index.json")  # no longer whole, then its files go
        for folder in release_paths(Path("."), gone):
            remote.remove(folder.as_posix())
    log.info("release %s on %s: %d files sent, %d there already", date, remote.url, upload.sent, upload.kept)
    return {
        "url": remote.url,
        "release": remote.url_of(f"releases/{date}/index.json"),
        "latest": is_latest,
        "sent": upload.sent,
        "kept": upload.kept,
        "pruned": pruned,
    }


def _write_pages(upload: Upload, publish: Path) -> None:
    """The reports' index and the catalog page, rendered for the remote."""
    from ingest.publish.catalog import render
    from ingest.publish.datasets import dataset_docs

    reports = publish / "reports" / "index.html"
    if reports.exists():
        upload.send(_item(reports, "reports/index.html"))
    page = upload.data / "tmp" / f"catalog-{uuid.uuid4().hex[:8]}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    try:
        page.write_text(render(publish, dataset_docs(), upload.remote.url), encoding="utf-8")
        upload.send(_item(page, "index.html"))
    finally:
        page.unlink(missing_ok=True)


def _versions(publish: Path, dates: list[str], latest: str | None) -> dict:
    """versions.json as the remote holds it: the local one, limited to the releases there."""
    local = read_json(publish / "versions.json", default={"releases": []})
    kept = [r for r in local.get("releases", []) if r.get("snapshot_date") in dates]
    return {"latest": latest, "releases": kept}


def verify_remote(url: str, date: str | None = None) -> tuple[str, list[str], int]:
    """Check a release on object storage as `socorg verify` checks a local one: every file of its index
    (and marts.duckdb, when it is the latest) read back and hashed. (release, problems, files checked)."""
    remote = Remote(url)
    try:
        latest = remote.read_json("latest.json", default=None)
        if date is None:
            if latest is None:
                return "", [f"{remote.url_of('latest.json')}: missing: nothing published there yet"], 0
            date = str(latest["snapshot_date"])
        index = remote.read_json(f"releases/{date}/index.json", default=None)
        if index is None:
            where = remote.url_of(f"releases/{date}/index.json")
            return date, [f"{where}: missing, so this is not a whole release"], 0
        entries = [*index["files"], *index.get("reports", [])]
        if latest and latest.get("snapshot_date") == date:
            record = remote.read_json("marts.duckdb.json", default=None)
            if record and record.get("snapshot_date") == date:
                entries.append({**record, "path": "marts.duckdb"})
        problems = []
        for done, entry in enumerate(entries, 1):
            problems += _check_remote(remote, entry)
            progress.step("verify", done, len(entries), "files", entry["path"])
        return date, problems, len(entries)
    except SocorgError:
        raise
    except (KeyError, TypeError) as exc:
        return date or "", [f"{remote.url}: damaged release record ({exc!r})"], 0
    except Exception as exc:  # the storage's own errors: credentials, network
        raise RemoteError(f"{remote.url}: cannot be read ({type(exc).__name__}: {exc})") from exc


def _check_remote(remote: Remote, entry: dict) -> list[str]:
    """The problems with one file of a release on the remote, as verify names them for a local one."""
    path = entry["path"]
    return check_entry(
        remote.url_of(path), remote.size(path), lambda: remote.sha256(path), entry, "the release"
    )


def _protocols(fs) -> tuple[str, ...]:
    protocol = fs.protocol
    return tuple(protocol) if isinstance(protocol, (tuple, list)) else (protocol,)
