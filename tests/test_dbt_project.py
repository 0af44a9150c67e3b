"""The dbt project as dbt sees it: unit tests must be found (dbt ignores them silently when misplaced)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def test_dbt_finds_every_unit_test(tmp_path):
    env = {**os.environ, "SOCORG_DATA": str(tmp_path)}
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), "ls", "--resource-type", "unit_test", "--output", "name", "--profiles-dir", "."]
    command += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    listed = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stdout[-2000:]
    names = set(listed.stdout.split())
    assert {
        "each_kind_of_change_is_told_apart",
        "versions_start_on_change_and_end_when_gone",
        "expired_qualifications_do_not_count_and_names_find_codes",
        "members_without_code_take_the_code_known_for_their_name",
        "one_row_per_enterprise_with_a_flag_per_list",
    } <= names
