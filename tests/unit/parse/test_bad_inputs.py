"""The bad-input corpus: every file gets its exact outcome, never a bare traceback or a half-written file."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from ingest.common.errors import ExportError, GateError, SocorgError
from ingest.land.landing import land_night, safe_file_name
from ingest.parse.night import parse_night, partition
from ingest.validate.checks import check_batches

DATE = dt.date(2023, 10, 31)
CORPUS = Path(__file__).resolve().parents[2] / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
GOOD_REGISTRY = CORPUS / "files" / "line_endings_lf.csv"


def deliver(exports: Path, source: str, name: str, file: Path) -> None:
    folder = exports / source / DATE.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(file, folder / name)
    if source != "registry":
        deliver(exports, "registry", "registry_320500_20231031.csv", GOOD_REGISTRY)


def no_partial_files(data: Path) -> None:
    leftovers = [p for p in data.rglob("*") if p.name.endswith((".tmp", ".part")) or ".staging" in p.name]
    assert leftovers == []
    for source in ("registry", "membership", "qualifications", "load_log"):
        assert not partition(data, source, DATE).exists()


def test_the_corpus_has_at_least_30_distinct_files():
    files = sorted((CORPUS / "files").iterdir())
    assert len(CASES) >= 30
    assert {f.name for f in files} == set(CASES)
    assert len({f.read_bytes() for f in files}) == len(files)


@pytest.mark.parametrize("case", sorted(CASES))
def test_outcome(case, tmp_path):
    expected = CASES[case]
    file = CORPUS / "files" / case
    source = expected.get("source", "registry")
    name = expected.get("name", f"registry_320500_20231031{file.suffix}")
    exports, data = tmp_path / "exports", tmp_path / "data"
    deliver(exports, source, name, file)
    if "error" in expected:
        with pytest.raises(ExportError) as err:
            land_night(str(exports), DATE, data)
            parse_night(data, DATE)
        assert expected["error"] in str(err.value)
        no_partial_files(data)
        return
    land_night(str(exports), DATE, data)
    loads = parse_night(data, DATE)
    load = next(x for x in loads if x.file_name == name)
    assert (load.rows_read, load.rows_loaded) == (expected["read"], expected["loaded"])
    assert load.quarantine_reasons == expected["quarantine"]
    assert load.rows_read == load.rows_loaded + load.rows_quarantined
    assert load.unknown_headers == expected.get("unknown_headers", [])
    if "value" in expected:
        rows = pq.read_table(partition(data, source, DATE)).to_pylist()
        key = next(iter(expected["value"]))  # the first column names the row
        match = [r for r in rows if r[key] == expected["value"][key]]
        assert match and {k: match[0][k] for k in expected["value"]} == expected["value"]
    if "gate" in expected:
        with pytest.raises(GateError, match=expected["gate"].replace("(", r"\(").replace(")", r"\)")):
            check_batches(data, DATE)


def test_a_symbolic_link_in_the_exports_root_is_refused(tmp_path):
    exports = tmp_path / "exports"
    folder = exports / "registry" / DATE.isoformat()
    folder.mkdir(parents=True)
    (folder / "registry_320500_20231031.csv").symlink_to("/etc/passwd")
    with pytest.raises(ExportError, match="registry_320500_20231031.csv: is a symbolic link"):
        land_night(str(exports), DATE, tmp_path / "data")
    assert not (tmp_path / "data" / "landing").exists()


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../registry_320500_20231031.csv", "a/../../b.csv", "C:\\x.csv"]
)
def test_names_that_could_steer_a_path_are_refused(name):
    with pytest.raises(SocorgError, match="is not an acceptable registry file name"):
        safe_file_name(name, "registry")
