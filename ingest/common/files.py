"""Files the pipeline keeps: writes a reader never sees half done, and JSON reads that name a damaged file."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ingest.common.errors import StateError

# How to recover each kind of state file, by name: what a person should do when it is damaged.
RECOVERY = {
    "latest.json": "it names the newest whole release: write "
    '{"snapshot_date": "<date>", "index": "releases/<date>/index.json"} with the newest date in '
    "publish/releases/ that socorg verify <date> finds whole, or delete it (the next night published "
    "writes it anew)",
    "versions.json": "it lists publish/releases/*/index.json: delete it, the next publish writes it anew",
    "index.json": "this release is damaged: build it again with socorg run --date {date} --force",
    "landed.json": "run the night again (socorg run --date {date}): its land step writes it anew",
    "run.json": "it only records the night's last run: delete it",
}
DEFAULT_RECOVERY = "socorg writes this file: run the night again to write it anew"


def _recovery(path: Path) -> str:
    return RECOVERY.get(path.name, DEFAULT_RECOVERY).replace("{date}", path.parent.name)


def sha256_of(path: Path) -> str:
    """The file's SHA-256 (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def in_threads(work: Callable, items: Iterable, parallel: bool = True) -> list:
    """`work` of each item, in order, on a thread per core: for reading and hashing local files (hashlib
    and file reads let go of the GIL). The first item's error that fails is raised, as a loop would.
    `parallel` false: one after the other (a remote filesystem whose client is not for threads: SFTP)."""
    items = list(items)
    if len(items) < 2 or not parallel:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(len(items), os.cpu_count() or 1)) as pool:
        return list(pool.map(work, items))


def write_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` with a temporary name beside `path`, then rename it into place: readers see
    the old file or the new one, never a part; a failed write leaves no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # a writer's own
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json_atomically(path: Path, content: object) -> None:
    """Write JSON to `path` so that readers see the old file or the new one, never a part."""
    text = json.dumps(content, ensure_ascii=False, indent=1)
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_json(path: Path, default: object = ...) -> object:
    """The JSON in `path`; `default` when it does not exist (if given). A file that is not valid JSON
    raises StateError naming the file, what is wrong with it and how to recover.

    >>> read_json(Path("/nonexistent/latest.json"), default=None) is None
    True
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if default is not ...:
            return default
        raise StateError(f"{path}: missing; {_recovery(path)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"{path}: cannot be read ({exc}); {_recovery(path)}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"{path}: damaged, not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            f"{_recovery(path)}"
        ) from None


def json_field(path: Path, content: object, *keys: str) -> object:
    """`content[keys[0]][keys[1]]…`, or StateError naming the file and the missing field."""
    value = content
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise StateError(f"{path}: damaged, no field {'.'.join(keys)!r}; {_recovery(path)}")
        value = value[key]
    return value
