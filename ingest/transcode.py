"""Decode a GB18030 export into a UTF-8 copy for DuckDB, a large file's two halves at once."""

from __future__ import annotations

import codecs
import subprocess
import sys
from pathlib import Path

CHUNK = 4 << 20
SPLIT_BYTES = 32 << 20  # files this large have their second half decoded by a second process
# Run by `python -I -S -c`: decodes the source's first bytes into a new UTF-8 file.
_DECODE_HEAD = """
import codecs, sys
source, end, target, encoding = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
decoder = codecs.getincrementaldecoder(encoding)()
try:
    with open(source, "rb") as src, open(target, "wb") as dst:
        while end > src.tell() and (chunk := src.read(min(1 << 22, end - src.tell()))):
            dst.write(decoder.decode(chunk).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
except UnicodeDecodeError as exc:
    sys.exit(f"{exc.reason} in the first {end} bytes")
"""


class Undecodable(ValueError):
    """The file's bytes are not valid in its encoding."""


def utf8_copy(path: Path, encoding: str, target: Path) -> None:
    """Write `path` decoded from `encoding` to `target` as UTF-8, or raise Undecodable (and leave no
    `target`). Python's codec holds the interpreter lock, so a large file is split after a line feed
    (a byte no multi-byte GB18030 character contains): another process decodes the first half into
    `target` while this one decodes the second half in memory.
    """
    size = path.stat().st_size
    split = _split_point(path, size) if size >= SPLIT_BYTES else 0
    head = None
    if split:
        command = [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _DECODE_HEAD,
            str(path),
            str(split),
            str(target),
            encoding,
        ]
        head = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        decoder, tail = codecs.getincrementaldecoder(encoding)(), []
        with path.open("rb") as src:
            src.seek(split)
            while chunk := src.read(CHUNK):
                tail.append(decoder.decode(chunk).encode("utf-8"))
            tail.append(decoder.decode(b"", final=True).encode("utf-8"))
        if head is not None:
            _, error = head.communicate()
            if head.returncode:
                raise Undecodable(error.strip().splitlines()[-1] if error.strip() else "decoder failed")
        with target.open("ab" if split else "wb") as dst:
            dst.writelines(tail)
    except UnicodeDecodeError as exc:
        target.unlink(missing_ok=True)
        raise Undecodable(f"{exc.reason} after byte {split}") from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        if head is not None and head.poll() is None:
            head.kill()
            head.wait()


def _split_point(path: Path, size: int) -> int:
    """The byte after the first line feed past the middle of the file (0, no split, when there is none)."""
    with path.open("rb") as fh:
        fh.seek(size // 2)
        after = fh.read(1 << 20).find(b"\n")
    return 0 if after < 0 else size // 2 + after + 1
