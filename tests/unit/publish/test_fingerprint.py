"""What a release is built from (ingest.publish.fingerprint): the code, the inputs, the night before."""

from __future__ import annotations

import datetime as dt
import json

from ingest.land.landing import landing_manifest
from ingest.publish import fingerprint

NIGHT = dt.date(2023, 10, 31)


def landed(data, sha: str) -> None:
    manifest = landing_manifest(data, NIGHT)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    name = "registry_440300_20231031.csv"
    file = {"source": "registry", "export_date": NIGHT.isoformat(), "name": name, "origin": name,
            "path": name, "sha256": sha, "bytes": 1, "already_landed": False}  # fmt: skip
    manifest.write_text(json.dumps({"files": [file], "missing_sources": []}), encoding="utf-8")


def test_the_fingerprint_follows_inputs_code_and_the_release_before(tmp_path):
    landed(tmp_path, "a" * 64)
    first = fingerprint.night_fingerprint(tmp_path, NIGHT, code="code")
    assert first == fingerprint.night_fingerprint(tmp_path, NIGHT, code="code")
    assert first != fingerprint.night_fingerprint(tmp_path, NIGHT, code="other code")
    earlier = tmp_path / "publish" / "releases" / "2023-10-30"
    earlier.mkdir(parents=True)
    (earlier / "index.json").write_text(json.dumps({"fingerprint": "night before"}), encoding="utf-8")
    assert fingerprint.night_fingerprint(tmp_path, NIGHT, code="code") != first
    landed(tmp_path, "b" * 64)
    assert fingerprint.night_fingerprint(tmp_path, NIGHT, code="code") != first


def test_the_code_fingerprint_covers_the_package_the_dbt_project_and_the_rules():
    files = fingerprint.code_files()
    names = {p.as_posix().split("/main/")[-1] for p in files}
    assert any(n.endswith("ingest/rules/typing_rules.py") for n in names)
    assert any(n.endswith("dbt_project/models/marts/clusters/clusters.sql") for n in names)
    assert any(n.endswith("ingest/rules/layouts/registry.yaml") for n in names)
    assert not any("__pycache__" in n for n in names)
