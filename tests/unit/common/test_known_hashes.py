"""Hashes remembered by file identity: a file not written to since is not read again; any write is seen."""

from __future__ import annotations

import hashlib
import json
import os
import time

from ingest.common.files import SETTLED_SECONDS, KnownHashes, file_identity


def counting_reader(path, reads: list):
    def read() -> str:
        reads.append(path)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    return read


def settled(tmp_path, content: bytes):
    """A file last changed more than SETTLED_SECONDS ago (the clock cannot be set back for ctime)."""
    path = tmp_path / "registry_440300_20231031.csv"
    path.write_bytes(content)
    time.sleep(SETTLED_SECONDS + 0.2)
    return path


def test_a_file_not_written_to_since_it_was_hashed_is_not_read_again_and_a_write_is_seen(tmp_path):
    path = settled(tmp_path, b"name,code\nA,1\n")
    record, reads = tmp_path / "known_hashes.json", []
    first = KnownHashes(record)
    assert first.sha256(path, counting_reader(path, reads)) == hashlib.sha256(path.read_bytes()).hexdigest()
    first.save()
    assert json.loads(record.read_text())[str(path)]["identity"] == file_identity(path)
    again = KnownHashes(record)  # another process, the night after
    assert again.sha256(path, counting_reader(path, reads)) == first.sha256(path)
    assert reads == [path]  # read once, remembered after
    # The same size, other bytes, the modification time set back as `cp -p` or `touch -d` would:
    # the change time still moves, so the file is read again.
    stat = path.stat()
    path.write_bytes(b"name,code\nB,2\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    changed = again.sha256(path, counting_reader(path, reads))
    assert changed == hashlib.sha256(b"name,code\nB,2\n").hexdigest() and reads == [path, path]


def test_a_file_changed_in_the_last_seconds_is_read_every_time_and_not_remembered(tmp_path):
    path = tmp_path / "membership_a.csv"
    path.write_bytes(b"x" * 100)
    assert file_identity(path) is None  # as likely to change again within the clock's tick
    known, reads = KnownHashes(tmp_path / "known_hashes.json"), []
    known.sha256(path, counting_reader(path, reads))
    known.sha256(path, counting_reader(path, reads))
    known.save()
    assert len(reads) == 2 and not (tmp_path / "known_hashes.json").exists()


def test_a_damaged_record_is_an_empty_one(tmp_path):
    path = settled(tmp_path, b"abc")
    record = tmp_path / "known_hashes.json"
    record.write_text("{not json", encoding="utf-8")
    known, reads = KnownHashes(record), []
    assert known.sha256(path, counting_reader(path, reads)) == hashlib.sha256(b"abc").hexdigest()
    known.save()
    assert reads == [path] and str(path) in json.loads(record.read_text())
