"""Write–audit–publish: a bad night fails at the gate or at dbt's tests, publishes nothing, alerts once.

Each bad night starts from the session's published night (copied), changes the exports the way the
world breaks them, and runs `socorg run` with the alert webhook pointed at a local HTTP server.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import duckdb
import pytest
from runner import FIRST_NIGHT, Webhook, published_state, socorg

pytestmark = pytest.mark.e2e

SHENZHEN_REGISTRY = "registry_440300_20231031.csv"
# Shenzhen's designated association of its network and communication cluster (seeds/cluster_associations).
DESIGNATED = "51440300046383174L"


@pytest.fixture(scope="module")
def warehouse(first_night, tmp_path_factory):
    """A copy of the published night's exports and data, and a webhook the runs alert."""
    root = tmp_path_factory.mktemp("wap")
    exports, data = root / "exports", root / "data"
    shutil.copytree(first_night["exports"], exports)
    shutil.copytree(first_night["data"], data)
    with Webhook() as webhook:
        env = {
            **first_night["env"],
            "SOCORG_EXPORTS": str(exports),
            "SOCORG_DATA": str(data),
            "AIRFLOW_CONN_SOCORG_ALERTS": webhook.url,
        }
        yield {"exports": exports, "data": data, "env": env, "webhook": webhook}


def night_like_the_first(exports, date: str) -> None:
    """The first night's exports again, delivered for another date."""
    for source in ("registry", "membership", "qualifications"):
        shutil.copytree(exports / source / FIRST_NIGHT, exports / source / date)


def rewrite_rows(path, change) -> None:
    """Rewrite a GB18030 CSV export through `change(rows) -> rows` (rows as the csv module reads them)."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("gb18030"), newline="")))
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(change(rows))
    path.write_bytes(out.getvalue().encode("gb18030"))


def run_failing_night(warehouse, date: str) -> dict:
    """Run a night expected to fail; return its stdout, stderr and the alerts it posted."""
    before = published_state(warehouse["data"])
    latest_file = warehouse["data"] / "publish" / "latest.json"
    latest_before = json.loads(latest_file.read_text(encoding="utf-8"))
    posted = len(warehouse["webhook"].posts)
    run = socorg("run", "--date", date, env=warehouse["env"])
    assert run.returncode != 0, run.stdout[-2000:]
    assert "NOT published" in run.stderr
    assert published_state(warehouse["data"]) == before, "a failed night changed published files"
    assert json.loads(latest_file.read_text(encoding="utf-8")) == latest_before
    return {"stdout": run.stdout, "stderr": run.stderr, "alerts": warehouse["webhook"].posts[posted:]}


def assert_failed_at(failed: dict, date: str, task: str, reason: str) -> None:
    """The task failed, nothing after it ran, and exactly one alert came from it with the reason."""
    assert_stopped_at(failed, task)
    assert len(failed["alerts"]) == 1, failed["alerts"]
    alert = failed["alerts"][0]
    assert alert["path"] == "/alerts"
    body = alert["body"]
    assert set(body) == {"dag", "run", "task", "export_date", "reason", "data_docs"}
    assert (body["dag"], body["task"], body["export_date"]) == ("socorg_nightly", task, date)
    assert body["run"] and reason in body["reason"]
    assert body["data_docs"].startswith("file://") and body["data_docs"].endswith("/docs/gx/index.html")


def assert_stopped_at(failed: dict, task: str) -> None:
    """The failing task failed and nothing after it ran."""
    states = dict(re.findall(r"(\w+): (\w+)", failed["stdout"]))
    assert states[task] == "failed", states
    after = {"validate": ["transform", "publish"], "transform": ["publish"]}[task]
    assert all(states[t] == "upstream_failed" for t in after), states


def test_a_truncated_registry_export_fails_at_the_gate(warehouse):
    date = "2023-11-03"
    night_like_the_first(warehouse["exports"], date)
    # Cut off after 3,000 of Shenzhen's 7,191 rows, footer and all, as an interrupted transfer leaves it.
    rewrite_rows(warehouse["exports"] / "registry" / date / SHENZHEN_REGISTRY, lambda rows: rows[: 2 + 3000])
    failed = run_failing_night(warehouse, date)
    message = re.search(
        r"registry: city 440300 has (\d+) organizations tonight but had (\d+) in the last good snapshot "
        r"\(2023-10-31\); expected a fall of at most 5%",
        failed["stderr"],
    )
    assert message, failed["stderr"]
    assert int(message[1]) < 3000 < 7000 < int(message[2])
    assert_failed_at(failed, date, "validate", "a truncated export?")


def test_a_membership_file_of_the_wrong_association_fails_at_the_gate(warehouse):
    date = "2023-11-04"
    night_like_the_first(warehouse["exports"], date)
    publish = warehouse["data"] / "publish"
    foundation, association = duckdb.sql(
        f"select (select min(credit_code) from read_parquet('{publish}/organizations/*/*.parquet') "
        "where org_type = 'foundation' and status = 'active' and city_code = '440300'), "
        f"(select min(association_credit_code) from read_parquet('{publish}/memberships/*/*.parquet') "
        "where association_credit_code like '51440300%')"
    ).fetchall()[0]
    folder = warehouse["exports"] / "membership" / date
    [delivered] = folder.glob(f"membership_{association}_*")
    # The association's member list, filed under a foundation's code.
    delivered.rename(folder / delivered.name.replace(association, foundation))
    failed = run_failing_night(warehouse, date)
    assert (
        "membership: expect_column_values_to_be_in_set(association_registry_standing) [error] failed on"
        in failed["stderr"]
    )
    assert f"membership_{foundation}_20231031" in failed["stderr"]
    assert "'active foundation'" in failed["stderr"]
    assert_failed_at(failed, date, "validate", "association_registry_standing")


def test_a_quarantine_flood_fails_at_the_gate(warehouse):
    date = "2023-11-05"
    night_like_the_first(warehouse["exports"], date)

    def break_every_fifth_code(rows):
        for row in rows[2:-1:5]:
            if len(row[1]) == 18:
                row[1] = row[1][:17] + ("0" if row[1][17] != "0" else "1")
        return rows

    rewrite_rows(warehouse["exports"] / "registry" / date / SHENZHEN_REGISTRY, break_every_fifth_code)
    failed = run_failing_night(warehouse, date)
    flood = re.search(
        rf"registry: {SHENZHEN_REGISTRY}: (\d+) of (\d+) rows quarantined \(\d+\.\d%\); expected at most 5%",
        failed["stderr"],
    )
    assert flood, failed["stderr"]
    assert 0.2 <= int(flood[1]) / int(flood[2]) < 0.25
    assert_failed_at(failed, date, "validate", "rows quarantined")


@pytest.fixture(scope="module")
def dbt_failed_night(warehouse) -> dict:
    """2023-11-06: the designated association leaves the registry; the gate passes, dbt's tests fail."""
    date = "2023-11-06"
    night_like_the_first(warehouse["exports"], date)
    # The designated association leaves tonight's registry (with its member list): the gate has nothing
    # to object to, but the clusters would count an association that is not there.
    registry = warehouse["exports"] / "registry" / date / SHENZHEN_REGISTRY

    def drop_designated(rows):
        kept = [r for r in rows if len(r) < 2 or r[1] != DESIGNATED]
        assert len(kept) == len(rows) - 1
        kept[-1] = [f"共 {len(kept) - 3} 条"]
        return kept

    rewrite_rows(registry, drop_designated)
    for path in (warehouse["exports"] / "membership" / date).glob(f"membership_{DESIGNATED}_*"):
        path.unlink()
    return run_failing_night(warehouse, date)


def test_a_failing_dbt_test_stops_the_run_before_publishing(dbt_failed_night):
    assert "dbt build failed for 2023-11-06" in dbt_failed_night["stderr"]
    assert "designated_associations_are_registered" in dbt_failed_night["stderr"]
    assert_failed_at(dbt_failed_night, "2023-11-06", "transform", "designated_associations_are_registered")


def test_the_next_good_night_publishes(warehouse, dbt_failed_night):
    """After the night dbt stopped (audited, not published), the next good night publishes and its
    changes are told against that audited night."""
    date = "2023-11-07"
    night_like_the_first(warehouse["exports"], date)
    run = socorg("run", "--date", date, env=warehouse["env"])
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    publish = warehouse["data"] / "publish"
    latest = json.loads((publish / "latest.json").read_text(encoding="utf-8"))
    assert latest["snapshot_date"] == date
    summary = publish / "city_summary" / f"snapshot_date={date}" / "city_summary.parquet"
    assert duckdb.sql(f"select count(*) from read_parquet('{summary}')").fetchall()[0][0] == 2
    for failed_date in ("2023-11-03", "2023-11-04", "2023-11-05", "2023-11-06"):
        assert not list(publish.glob(f"*/snapshot_date={failed_date}"))
    # Nights stopped by the gate are not snapshots of history: the truncated registry ended nothing.
    history = publish / "organization_history" / f"snapshot_date={date}" / "organization_history.parquet"
    ended = duckdb.sql(f"select distinct valid_to from read_parquet('{history}') where valid_to is not null")
    assert {str(d) for (d,) in ended.fetchall()} <= {"2023-11-06", "2023-11-07"}
    # The association that left the registry on the audited night before is back: one change.
    assert (
        "registry changes between 2023-11-06 and 2023-11-07:\n    city 440300: registered 1\n" in run.stdout
    )
    # Nothing failed tonight: no alert.
    assert [a for a in warehouse["webhook"].posts if a["body"]["export_date"] == date] == []
