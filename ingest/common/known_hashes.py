"""Hashes of local files remembered by file identity: a file not written to since is not read again."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from pathlib import Path

from ingest.common.errors import StateError
from ingest.common.files import read_json, sha256_of, write_json_atomically

log = logging.getLogger(__name__)

# A file last changed at least this long before it is hashed keeps its identity until its content
# changes: a later write moves its change time on, however coarse the filesystem's clock (git's "racy"
# files are those changed within the tick the index was written in).
SETTLED_SECONDS = 2


def known_hashes_file(data: Path, export_date: dt.date) -> Path:
    """The night's local files (exports, release) hashed before, by file identity."""
    return data / "runs" / export_date.isoformat() / "known_hashes.json"


@contextlib.contextmanager
def night_hashes(data: Path, export_date: dt.date, known: KnownHashes | None = None):
    """The night's known hashes, saved on leaving — or `known`, when a caller already holds them (and
    saves them once, after all its checks)."""
    if known is not None:
        yield known
        return
    known = KnownHashes(known_hashes_file(data, export_date))
    try:
        yield known
    finally:
        known.save()


def remembering() -> bool:
    """Whether hashes are remembered at all: `SOCORG_REMEMBER_HASHES` (`1`; `0` on a network filesystem
    whose file times are cached or whose change time is not one) and a POSIX system."""
    return os.name == "posix" and os.environ.get("SOCORG_REMEMBER_HASHES", "1").strip() != "0"


def file_identity(path: str | Path) -> list[int] | None:
    """What tells a local file's content unchanged without reading it, as git and rsync do: size,
    modification and change times (ns), inode and device. Any write, copy over or rename moves the
    change time, which no tool sets back. Taken from the opened file (NFS checks its attributes again
    on open). None for a file changed in the last SETTLED_SECONDS, one that cannot be opened, or when
    hashes are not remembered."""
    if not remembering():
        return None
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
    except OSError:
        return None
    if st.st_ctime_ns > time.time_ns() - SETTLED_SECONDS * 1_000_000_000:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


class KnownHashes:
    """SHA-256 of local files by path with the identity each had when hashed, kept in a JSON file. Only
    a cache: a missing or damaged file is an empty one, and one that cannot be written is left as it
    was (the next check reads the files again)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            known = read_json(path, default={})
        except StateError:
            known = {}
        self.known: dict[str, dict] = known if isinstance(known, dict) else {}
        self.changed = False

    def sha256(self, file: str | Path, read=None) -> str:
        """The file's SHA-256: remembered if its identity is the one it was hashed with, else `read()`
        (sha256_of by default), remembered if the file did not change while it was read."""
        key = os.path.abspath(file)
        identity = file_identity(key)
        known = self.known.get(key)
        remembered = isinstance(known, dict) and isinstance(known.get("sha256"), str)
        if identity and remembered and known.get("identity") == identity:
            return known["sha256"]
        sha = read() if read else sha256_of(Path(key))
        self.remember(key, sha, identity)
        return sha

    def remember(self, file: str | Path, sha: str, identity: list[int] | None) -> None:
        """Remember `sha` for the file if its identity is still `identity` (taken before it was read)."""
        key = os.path.abspath(file)
        if identity and file_identity(key) == identity:
            self.known[key] = {"identity": identity, "sha256": sha}
            self.changed = True

    def save(self) -> None:
        """Write what is remembered; a failure is logged, not raised (a cache lost costs a re-read)."""
        if not self.changed:
            return
        try:
            write_json_atomically(self.path, self.known)
            self.changed = False
        except OSError as exc:
            log.warning(
                "could not keep the hashes in %s (%s): the next check reads the files again", self.path, exc
            )
