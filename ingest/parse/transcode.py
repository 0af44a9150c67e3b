"""Decode a GB18030 or UTF-16 export into a UTF-8 copy for DuckDB (a large GB18030 file in two halves)."""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import sys
from pathlib import Path

CHUNK = 4 << 20
SPLIT_BYTES = 32 << 20  # files this large have their first half decoded by a second process


class Undecodable(ValueError):
    """The file's bytes are not valid in its encoding."""


def utf8_copy(path: Path, encoding: str, target: Path) -> None:
    """Write `path` decoded from `encoding` to `target` as UTF-8, or raise Undecodable (and leave no
    `target`). Python's codec holds the interpreter lock, so a large file is split after a line feed
    (a byte no multi-byte GB18030 character contains): this module, run as a script by a second
    process, decodes the first half into `target` while this process decodes the second half into a
    file of its own, appended afterwards. Memory holds a chunk, whatever the file's size.
    """
    size = path.stat().st_size
    # A line feed byte ends a line in GB18030 (no multi-byte character holds one), not in UTF-16.
    splittable = size >= SPLIT_BYTES and not encoding.startswith("utf-16")
    split = _split_point(path, size) if splittable else 0
    rest = target.with_name(target.name + ".rest") if split else target
    head = None
    if split:
        script = [sys.executable, "-I", "-S", __file__, str(path), "0", str(split), str(target), encoding]
        head = subprocess.Popen(script, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        decode_range(path, split, size, rest, encoding)
        if head is not None:
            _, error = head.communicate()
            if head.returncode:
                raise Undecodable(error.strip().splitlines()[-1] if error.strip() else "decoder failed")
            with rest.open("rb") as part, target.open("ab") as dst:
                _append(part, dst)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        if head is not None and head.poll() is None:
            head.kill()
            head.wait()
        if split:
            rest.unlink(missing_ok=True)


def decode_range(source: Path, start: int, end: int, target: Path, encoding: str) -> None:
    """Write bytes start … end - 1 of `source`, decoded from `encoding`, to `target` as UTF-8."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(source, "rb") as src, open(target, "wb") as dst:
            src.seek(start)
            while end > src.tell() and (chunk := src.read(min(CHUNK, end - src.tell()))):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Undecodable(f"{exc.reason} in bytes {start} to {end}") from None


def _append(part, dst) -> None:
    """Append one file to another, inside the kernel where it can."""
    try:
        while os.copy_file_range(part.fileno(), dst.fileno(), 1 << 30):
            pass
    except OSError:  # not between these file systems
        shutil.copyfileobj(part, dst, CHUNK)


def _split_point(path: Path, size: int) -> int:
    """The byte after the first line feed past the middle of the file (0, no split, when there is none)."""
    with path.open("rb") as fh:
        fh.seek(size // 2)
        after = fh.read(1 << 20).find(b"\n")
    return 0 if after < 0 else size // 2 + after + 1


if __name__ == "__main__":  # run by utf8_copy as `python -I -S transcode.py SOURCE START END TARGET ENCODING`
    source, start, end, target, encoding = sys.argv[1:]
    try:
        decode_range(Path(source), int(start), int(end), Path(target), encoding)
    except Undecodable as exc:
        sys.exit(str(exc))
