"""The documentation site: built offline with --strict (a broken link fails), its reference pages generated
from the code, and the registries they are made of kept complete by reading the code."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from ingest.cli.docs import write_reference
from ingest.cli.exit_codes import EXIT_CODES
from ingest.common.notes import ISSUE_KINDS
from ingest.common.settings import SETTINGS
from ingest.publish.datasets import DATASETS, dataset_contract

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """`make docs` in a copy of docs/: the reference generated, then `mkdocs build --strict`."""
    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(PROJECT / "docs", root / "docs", ignore=shutil.ignore_patterns("*.md.tmp"))
    shutil.copy(PROJECT / "mkdocs.yml", root / "mkdocs.yml")
    write_reference(root / "docs" / "reference")
    built = subprocess.run(
        [str(Path(sys.executable).parent / "mkdocs"), "build", "--strict"],
        cwd=root, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-4000:]
    assert "WARNING" not in built.stderr, built.stderr[-4000:]
    return root / "site"


def text_of(page: Path) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))


def test_every_dataset_and_column_is_in_the_reference_in_english_and_chinese(site):
    page = text_of(site / "reference" / "datasets.html")
    for dataset in DATASETS:
        assert dataset in page
        for column in dataset_contract(dataset)["columns"]:
            assert column in page, (dataset, column)
    assert "Unified social credit code; null in a snapshot from before credit codes." in page
    assert "统一社会信用代码" in page


def test_settings_cli_exit_codes_issue_kinds_and_layouts_are_in_the_reference(site):
    settings = text_of(site / "reference" / "settings.html")
    assert all(s.name in settings for s in SETTINGS)
    cli = text_of(site / "reference" / "cli.html")
    for command in ("sample", "run", "inspect", "verify", "publish-remote", "publish-postgres"):
        assert f"usage: socorg {command}" in cli, command
    assert "--json" in cli and "--version" in cli
    codes = text_of(site / "reference" / "exit-codes.html")
    assert all(name in codes for name, _ in EXIT_CODES.values())
    kinds = text_of(site / "reference" / "issue-kinds.html")
    assert all(kind in kinds for kind in ISSUE_KINDS)
    layouts = text_of(site / "reference" / "layouts.html")
    assert "统一社会信用代码" in layouts and "registry_national_extract" in layouts


def test_the_site_loads_nothing_from_the_internet(site):
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(
            r"""(src|href)=["']https?://(?!127\.0\.0\.1)""", html.replace('href="https://squidfunk', "")
        ), page


def code_files() -> list[Path]:
    return [*(PROJECT / "ingest").rglob("*.py"), *(PROJECT / "dags").glob("*.py")]


def test_every_setting_the_code_reads_is_in_the_registry():
    read = set()
    for path in code_files():
        read |= set(
            re.findall(r"\b(?:AIRFLOW_CONN_)?SOCORG_[A-Z_]*[A-Z]\b", path.read_text(encoding="utf-8"))
        )
    registered = {s.name for s in SETTINGS}
    assert read - registered == set(), "add the setting to ingest/common/settings.py"
    assert {n for n in registered if "SOCORG" in n} - read == set(), "a setting the code no longer reads"


def test_every_issue_kind_the_code_writes_is_in_the_registry():
    written = set()
    for path in code_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "kind"
                        and isinstance(value, ast.Constant)
                    ):
                        written.add(value.value)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "add_note":
                written.add(node.args[2].value)
    assert written == set(ISSUE_KINDS)


def test_the_readme_is_short_and_its_links_resolve():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", readme):
        assert (PROJECT / target).exists(), target
