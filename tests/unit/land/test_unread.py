"""Every file under a night's folders of the exports root is read or named as not read: a folder no source
reads (`sanctions/`, a misspelt `registries/`) or a folder inside a source's night is never skipped
without a word — the landing manifest, the release's issues.json and `socorg inspect` name it."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import fsspec

from ingest.common.notes import night_notes
from ingest.land.landing import land_night, landing_manifest, unread_exports

DATE = dt.date(2023, 10, 31)
REGISTRY = (
    "统一社会信用代码,社会组织名称,社会组织类型,登记状态\n51100000500002862F,中国自动化学会,社会团体,正常\n"
)


def exports_with_strays(root: Path) -> Path:
    night = DATE.isoformat()
    files = {
        f"registry/{night}/registry_110000_20231031.csv": REGISTRY,
        f"registry/{night}/old/registry_110000_20231030.csv": REGISTRY,  # a folder inside a source's night
        f"registries/{night}/registry_320500_20231031.csv": REGISTRY,  # a misspelt source
        f"sanctions/{night}/sanction_110000_2022.xlsx": "not read",  # a source socorg does not read
        "sanctions/2023-10-30/sanction_110000_2021.xlsx": "another night's: not this night's concern",
        "_truth/2023-10-31.json": "{}",  # not a night's folder
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return root


EXPECTED = [
    "registries/2023-10-31/registry_320500_20231031.csv",
    "registry/2023-10-31/old/registry_110000_20231030.csv",
    "sanctions/2023-10-31/sanction_110000_2022.xlsx",
]


def test_files_no_source_reads_are_found(tmp_path):
    exports = exports_with_strays(tmp_path / "exports")
    assert unread_exports(fsspec.filesystem("file"), str(exports), DATE) == EXPECTED


def test_the_night_lands_what_it_reads_and_names_the_rest(tmp_path):
    exports, data = exports_with_strays(tmp_path / "exports"), tmp_path / "data"
    landed = land_night(str(exports), DATE, data)
    assert [f.name for f in landed] == ["registry_110000_20231031.csv"]
    manifest = json.loads(landing_manifest(data, DATE).read_text(encoding="utf-8"))
    assert manifest["not_read"] == EXPECTED
    [note] = night_notes(data, DATE)
    assert note["kind"] == "not_read" and note["level"] == "warning"
    assert note["message"].startswith(
        f"3 file(s) under {exports}/ for 2023-10-31 are in folders no source reads"
    )
    assert "sanctions/2023-10-31/sanction_110000_2022.xlsx" in note["message"]


def test_inspect_names_them_too(tmp_path):
    exports = exports_with_strays(tmp_path / "exports")
    done = subprocess.run(
        [sys.executable, "-m", "ingest.cli", "inspect", str(exports), "--date", DATE.isoformat()],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert [line for line in done.stdout.splitlines() if line.startswith("not read: ")] == [
        f"not read: {path} (in a folder no source reads)" for path in EXPECTED
    ]
