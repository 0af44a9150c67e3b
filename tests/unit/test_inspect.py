"""`socorg inspect`: how a night would read a file, on the whole bad-input corpus and a sample night."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ingest.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_inspect_says_what_the_night_would_do_with_each_corpus_file(case, tmp_path, capsys):
    expected = CASES[case]
    file = CORPUS / "files" / case
    name = expected.get("name", f"registry_320500_20231031{file.suffix}")
    if "/" in name or ".." in name:
        pytest.skip("a name that cannot be a file name here")
    shutil.copy(file, tmp_path / name)
    code = main(["inspect", str(tmp_path / name), "--source", expected.get("source", "registry")])
    out = capsys.readouterr().out
    if "error" in expected:
        assert code == 1 and ("REFUSED" in out or "none" in out), out
        if "file name" not in expected["error"]:
            assert expected["error"].split(": ", 1)[1][:60] in out
        return
    assert code == (1 if "gate" in expected else 0), out
    quarantined = sum(expected["quarantine"].values())
    assert f"{expected['read']} read, {expected['loaded']} would load, {quarantined} quarantined" in out
    for reason, count in expected["quarantine"].items():
        assert f"    {count} {reason}: row " in out


def test_inspect_lists_unknown_labels_and_maps_every_header(tmp_path, capsys):
    shutil.copy(CORPUS / "files" / "qualification_labels.csv", tmp_path / "little_giant_2023.csv")
    assert main(["inspect", str(tmp_path / "little_giant_2023.csv"), "--source", "qualifications"]) == 0
    out = capsys.readouterr().out
    assert "layout:     qualifications (source qualifications" in out
    assert "认定类型 → qualification" in out and "企业名称 → enterprise_name" in out
    assert "unknown label: qualification '专精特新企业' × 1" in out
    assert "verdict:    would load" in out


def test_inspect_never_shows_a_personal_value(tmp_path, capsys):
    person, phone = "黄小明", "13912345678"
    header = "会员单位名称,统一社会信用代码,会员类型,会内职务,入会日期,会员状态,联系人,联系电话"
    row = f"{person},,个人会员,会员,2020-01-01,正常,{person},{phone}"
    lines = [header, row, row, f"制表人：{person},联系电话：{phone}"]
    path = tmp_path / "membership_5132050887701939X3_20231031.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    main(["inspect", str(path)])
    out = capsys.readouterr().out
    assert "rows:       2 read" in out and "footer:     1 lines" in out
    assert "联系电话 → phone (personal data: never loaded)" in out
    assert person not in out and phone not in out


def test_a_name_two_sources_could_take_asks_for_the_source(tmp_path, capsys):
    shutil.copy(CORPUS / "files" / "qualification_labels.csv", tmp_path / "little_giant_2023.csv")
    main(["inspect", str(tmp_path / "little_giant_2023.csv")])
    assert "also matches qualifications: give --source" in capsys.readouterr().out


def test_inspect_a_dates_folder_judges_every_file(tmp_path, capsys):
    folder = tmp_path / "exports" / "registry" / "2023-10-31"
    folder.mkdir(parents=True)
    shutil.copy(CORPUS / "files" / "line_endings_lf.csv", folder / "registry_320500_20231031.csv")
    shutil.copy(CORPUS / "files" / "truncated.xlsx", folder / "registry_440300_20231031.xlsx")
    assert main(["inspect", str(tmp_path / "exports"), "--date", "2023-10-31"]) == 1
    out = capsys.readouterr().out
    assert "2 files: 1 would stop the night" in out
    assert "registry_440300_20231031.xlsx: is not a readable .xlsx workbook" in out
