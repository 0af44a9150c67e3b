"""Hashes remembered by file identity: a file not written to since is not read again; any write is seen."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time

import pytest

from ingest.common.known_hashes import SETTLED_SECONDS, KnownHashes, file_identity


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    """Files last changed more than SETTLED_SECONDS ago (a change time cannot be set back): one wait."""
    folder = tmp_path_factory.mktemp("exports")
    for name in ("registry_440300_20231031.csv", "membership_a.csv", "membership_b.csv", "membership_c.csv"):
        (folder / name).write_bytes(b"name,code\nA,1\n")
    time.sleep(SETTLED_SECONDS + 0.2)
    return folder


def reader(path, reads: list):
    def read() -> str:
        reads.append(path.name)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    return read


def test_a_file_not_written_to_since_it_was_hashed_is_not_read_again_and_a_write_is_seen(settled, tmp_path):
    path = settled / "registry_440300_20231031.csv"
    record, reads = tmp_path / "known_hashes.json", []
    first = KnownHashes(record)
    assert first.sha256(path, reader(path, reads)) == hashlib.sha256(b"name,code\nA,1\n").hexdigest()
    first.save()
    assert json.loads(record.read_text())[str(path)]["identity"] == file_identity(path)
    again = KnownHashes(record)  # another process, the night after
    assert again.sha256(path, reader(path, reads)) == hashlib.sha256(b"name,code\nA,1\n").hexdigest()
    assert reads == [path.name]  # read once, remembered since
    # As many bytes, other ones, and the modification time set back as `cp -p` or `touch -d` would:
    # the change time still moves, so the file is read again.
    stat = path.stat()
    path.write_bytes(b"name,code\nB,2\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    assert again.sha256(path, reader(path, reads)) == hashlib.sha256(b"name,code\nB,2\n").hexdigest()
    assert reads == [path.name, path.name]


def test_a_file_changed_in_the_last_seconds_is_read_every_time_and_not_remembered(tmp_path):
    path = tmp_path / "membership_a.csv"
    path.write_bytes(b"x" * 100)
    assert file_identity(path) is None  # it may change again within the clock's tick
    known, reads = KnownHashes(tmp_path / "known_hashes.json"), []
    known.sha256(path, reader(path, reads))
    known.sha256(path, reader(path, reads))
    known.save()
    assert len(reads) == 2 and not (tmp_path / "known_hashes.json").exists()


def test_with_remembering_turned_off_every_file_is_read(settled, tmp_path, monkeypatch):
    path = settled / "membership_a.csv"
    monkeypatch.setenv("SOCORG_REMEMBER_HASHES", "0")
    known, reads = KnownHashes(tmp_path / "known_hashes.json"), []
    known.sha256(path, reader(path, reads))
    known.sha256(path, reader(path, reads))
    assert len(reads) == 2 and file_identity(path) is None


def test_a_damaged_record_is_an_empty_one_and_one_not_written_is_logged(settled, tmp_path, caplog):
    path = settled / "membership_b.csv"
    record = tmp_path / "known_hashes.json"
    record.write_text('{"' + str(path) + '": {"identity": "not one"}, "x": ', encoding="utf-8")
    known, reads = KnownHashes(record), []
    assert known.sha256(path, reader(path, reads)) == hashlib.sha256(b"name,code\nA,1\n").hexdigest()
    known.save()
    assert reads == [path.name] and str(path) in json.loads(record.read_text())
    # An entry without its hash is no hash.
    record.write_text(json.dumps({str(path): {"identity": file_identity(path)}}), encoding="utf-8")
    KnownHashes(record).sha256(path, reader(path, reads))
    assert reads == [path.name, path.name]
    # A record that cannot be written (here: its folder is a file) costs a re-read, not the run.
    unwritable = KnownHashes(tmp_path / "known_hashes.json" / "nested.json")
    unwritable.sha256(settled / "membership_c.csv")
    with caplog.at_level(logging.WARNING):
        unwritable.save()
    assert "could not keep the hashes in" in caplog.text and "reads the files again" in caplog.text
