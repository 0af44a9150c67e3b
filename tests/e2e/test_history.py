"""History and change over a sequence of sample nights, through the real stages (land … publish).

The stages run in-process without Airflow (the DAG's own tests cover the scheduling); the nights'
`registry_changes` must equal the generator's ground truth, and history must not depend on the order
the nights ran in.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil

import duckdb
import pytest
from reference_history import reference_columns, reference_rows
from runner import run_night_in_process

from ingest.orchestration import stages as pipeline
from ingest.sample.generate import write_nights

pytestmark = pytest.mark.e2e

START = dt.date(2023, 10, 31)
NIGHTS = 4  # across a month's end, with every kind of change the sample plants each night


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    out = tmp_path_factory.mktemp("nights") / "exports"
    write_nights(out, START, NIGHTS, "shenzhen")
    return out


def run_nights(exports, data, order: list[int]) -> None:
    for k in order:
        night = pipeline.Night(START + dt.timedelta(days=k), str(exports), data)
        run_night_in_process(night)


def published(data, dataset: str, night: dt.date) -> list[tuple]:
    path = data / "publish" / dataset / f"snapshot_date={night.isoformat()}" / f"{dataset}.parquet"
    return duckdb.sql(f"select * exclude (snapshot_date) from read_parquet('{path}') order by all").fetchall()


@pytest.fixture(scope="module")
def in_order(exports, tmp_path_factory):
    data = tmp_path_factory.mktemp("in-order")
    run_nights(exports, data, list(range(NIGHTS)))
    return data


def test_registry_changes_equal_the_generators_ground_truth(exports, in_order):
    truth = json.loads((exports / "_truth" / "changes.json").read_text(encoding="utf-8"))
    expected = {(c["night"], c["credit_code"], c["change"]) for c in truth}
    glob = in_order / "publish" / "registry_changes" / "*" / "*.parquet"
    got = duckdb.sql(
        f"select strftime(snapshot_date, '%Y-%m-%d'), credit_code, change_type from read_parquet('{glob}')"
    ).fetchall()
    assert len(got) == len(set(got)) == len(truth)
    assert set(got) == expected
    kinds = {c for _, _, c in expected}
    assert {"registered", "deregistered", "revoked", "renamed", "grade_gained", "grade_expired"} <= kinds


def test_membership_changes_equal_the_generators_ground_truth(exports, in_order):
    truth = json.loads((exports / "_truth" / "membership_changes.json").read_text(encoding="utf-8"))
    expected = {
        (c["night"], c["association_credit_code"], c["member_credit_code"], c["change"]) for c in truth
    }
    glob = in_order / "publish" / "membership_changes" / "*" / "*.parquet"
    got = duckdb.sql(
        "select strftime(snapshot_date, '%Y-%m-%d'), association_credit_code, member_credit_code, "
        f"change_type from read_parquet('{glob}')"
    ).fetchall()
    assert len(got) == len(set(got)) == len(truth)
    assert set(got) == expected
    assert {c for *_, c in expected} == {"joined", "left", "role_changed"}


def test_history_versions_follow_the_changes(in_order):
    last = START + dt.timedelta(days=NIGHTS - 1)
    path = (
        in_order
        / "publish"
        / "organization_history"
        / f"snapshot_date={last}"
        / "organization_history.parquet"
    )
    history = f"read_parquet('{path}')"
    # Exactly one current version per organization in the last snapshot, none for the others.
    organizations = in_order / "publish" / "organizations" / f"snapshot_date={last}" / "organizations.parquet"
    current = duckdb.sql(f"select count(*) from {history} where is_current").fetchall()[0][0]
    assert current == duckdb.sql(f"select count(*) from read_parquet('{organizations}')").fetchall()[0][0]
    # A renamed organization has a version that ended the night of the rename and one from it.
    changes = in_order / "publish" / "registry_changes" / "*" / "*.parquet"
    code, night, before, after = duckdb.sql(
        f"select credit_code, snapshot_date, value_before, value_after from read_parquet('{changes}') "
        "where change_type = 'renamed' order by all limit 1"
    ).fetchall()[0]
    versions = duckdb.sql(
        f"select org_name, valid_from, valid_to from {history} "
        f"where credit_code = '{code}' order by version_no"
    ).fetchall()
    assert (before, night) in [(name, valid_to) for name, _, valid_to in versions]
    assert (after, night) in [(name, valid_from) for name, valid_from, _ in versions]


HISTORY = ("organization_history", "registry_changes", "membership_changes")


def published_columns(data, dataset: str, night: dt.date) -> tuple[list[str], list[tuple]]:
    path = data / "publish" / dataset / f"snapshot_date={night.isoformat()}" / f"{dataset}.parquet"
    rel = duckdb.sql(f"select * from read_parquet('{path}') order by all")
    return rel.columns, rel.fetchall()


def assert_equals_the_full_recompute(data, night: dt.date) -> None:
    """The night's published history and changes, and the warehouse's counts by night, are what
    comparing every audited night again (the models before history carried forward) gives."""
    for dataset in HISTORY:
        columns, rows = published_columns(data, dataset, night)
        # The reference predates the keys of organizations without credit codes (issue 31): on nights
        # where every organization has one, org_id is the credit code and the columns after it agree.
        if "org_id" in columns:
            assert all(row[columns.index("org_id")] == row[columns.index("credit_code")] for row in rows)
        shared = reference_columns(data, night, dataset, columns)
        path = data / "publish" / dataset / f"snapshot_date={night.isoformat()}" / f"{dataset}.parquet"
        listed = ", ".join(f'"{c}"' for c in shared)
        rows = duckdb.sql(f"select {listed} from read_parquet('{path}') order by all").fetchall()
        assert rows == reference_rows(data, night, dataset, shared), (dataset, night)
    # A copy: the in-process stages of this test process keep the warehouse open.
    # With its write-ahead log: what the last night wrote may not be checkpointed into the file yet.
    copy = data / "warehouse-copy.duckdb"
    shutil.copyfile(data / "warehouse.duckdb", copy)
    wal = data / "warehouse.duckdb.wal"
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    with duckdb.connect(str(copy), read_only=True) as con:
        counts = con.sql(
            "select cluster_code, snapshot_date, listed_member_count "
            "from intermediate.int_cluster_member_counts_by_night "
            "where snapshot_date in (select export_date from read_parquet("
            f"'{data}/raw/audited/export_date=*/*.parquet')) and snapshot_date <= date '{night}' "
            "and cluster_code is not null order by all"
        ).fetchall()
    copy.unlink()
    copy.with_name(copy.name + ".wal").unlink(missing_ok=True)
    columns = ["cluster_code", "snapshot_date", "listed_member_count"]
    assert counts == reference_rows(data, night, "int_cluster_member_counts_by_night", columns)
    assert counts, "no cluster counts: the comparison would prove nothing"


def test_each_nights_history_equals_the_full_recompute(in_order):
    for k in range(NIGHTS):
        assert_equals_the_full_recompute(in_order, START + dt.timedelta(days=k))
    # Not vacuous: versions beyond the first, and changes of every kind of history, were compared.
    last = START + dt.timedelta(days=NIGHTS - 1)
    _, history = published_columns(in_order, "organization_history", last)
    assert any(row[1] > 1 for row in history)
    assert all(published_columns(in_order, d, last)[1] for d in HISTORY)


def redeliver_with_a_rename(exports, data, night: dt.date) -> str:
    """Night's registry export delivered again with one organization renamed; return the old name."""
    raw = data / "raw" / "registry" / f"export_date={night}" / "*.parquet"
    names = [n for (n,) in duckdb.sql(f"select org_name from read_parquet('{raw}') order by all").fetchall()]
    for path in sorted((exports / "registry" / night.isoformat()).iterdir()):
        content = path.read_bytes()
        for encoding in ("utf-8", "gb18030"):
            for name in names:
                if content.count(name.encode(encoding)) == 1:
                    path.write_bytes(content.replace(name.encode(encoding), (name + "新").encode(encoding)))
                    return name
    raise AssertionError(f"no organization name found once in the registry exports of {night}")


def test_history_does_not_depend_on_the_order_nights_ran_in(exports, in_order, tmp_path):
    """Shuffled nights (backfills among them), the last re-run, then a night in the middle re-delivered
    and the nights after it run again: the history state carried from night to night gives
    exactly the full recompute, and the same files as running the nights in order."""
    shuffled = tmp_path / "shuffled"
    order = list(range(NIGHTS))
    random.Random(3).shuffle(order)
    assert order != sorted(order)
    run_nights(exports, shuffled, [*order, NIGHTS - 1])
    last = START + dt.timedelta(days=NIGHTS - 1)
    for dataset in HISTORY:
        assert published(shuffled, dataset, last) == published(in_order, dataset, last), dataset
    for dataset in (*HISTORY, "clusters", "registry_stats"):
        name = f"{dataset}/snapshot_date={last}/{dataset}.parquet"
        assert (shuffled / "publish" / name).read_bytes() == (in_order / "publish" / name).read_bytes()
    assert_equals_the_full_recompute(shuffled, last)

    redelivered = tmp_path / "exports"
    shutil.copytree(exports, redelivered)
    middle = START + dt.timedelta(days=1)
    old_name = redeliver_with_a_rename(redelivered, shuffled, middle)
    # And the first night's counts lost from the state (a build stopped before them, an older backup):
    # the next night counts that night again.
    with duckdb.connect(str(shuffled / "warehouse.duckdb")) as con:
        con.execute(
            "delete from intermediate.int_cluster_member_counts_by_night "
            f"where snapshot_date = date '{START}'"
        )
    run_nights(redelivered, shuffled, [1, 2, NIGHTS - 1])  # as `socorg run` rebuilds the nights after it
    for k in (1, 2, NIGHTS - 1):
        assert_equals_the_full_recompute(shuffled, START + dt.timedelta(days=k))
    columns, changes = published_columns(shuffled, "registry_changes", middle)
    changes = [dict(zip(columns, row, strict=True)) for row in changes]
    assert any(c["change_type"] == "renamed" and c["value_before"] == old_name for c in changes)


def test_registry_stats_count_the_night_and_the_month(exports, in_order):
    truth = json.loads((exports / "_truth" / "changes.json").read_text(encoding="utf-8"))
    last = START + dt.timedelta(days=NIGHTS - 1)
    stats = in_order / "publish" / "registry_stats" / f"snapshot_date={last}" / "registry_stats.parquet"
    got = duckdb.sql(
        "select sum(new_night_count), sum(deregistered_night_count), sum(new_month_count), "
        f"sum(deregistered_month_count) from read_parquet('{stats}')"
    ).fetchall()[0]

    def count(change: str, nights) -> int:
        return sum(c["change"] == change and c["night"] in nights for c in truth)

    month = {(START + dt.timedelta(days=k)).isoformat() for k in range(NIGHTS)}
    month = {n for n in month if n[:7] == last.isoformat()[:7] and n <= last.isoformat()}
    expected = (
        count("registered", {last.isoformat()}),
        count("deregistered", {last.isoformat()}),
        count("registered", month),
        count("deregistered", month),
    )
    assert got == expected and expected[2] > expected[0] > 0


def test_clusters_member_growth_follows_the_membership_changes(exports, in_order):
    truth = json.loads((exports / "_truth" / "membership_changes.json").read_text(encoding="utf-8"))
    last = (START + dt.timedelta(days=NIGHTS - 1)).isoformat()
    clusters = in_order / "publish" / "clusters" / f"snapshot_date={last}" / "clusters.parquet"
    growth, month = duckdb.sql(
        f"select sum(member_growth_night), count(member_growth_30_days) from read_parquet('{clusters}')"
    ).fetchall()[0]
    joined = sum(c["change"] == "joined" and c["night"] == last for c in truth)
    left = sum(c["change"] == "left" and c["night"] == last for c in truth)
    assert growth == joined - left
    assert month == 0  # the nights span less than 30 days


def test_each_membership_records_how_it_was_matched(in_order):
    last = START + dt.timedelta(days=NIGHTS - 1)
    index = json.loads((in_order / "publish" / "releases" / last.isoformat() / "index.json").read_text())
    methods = index["statistics"]["memberships_by_match_method"]
    memberships = in_order / "publish" / "memberships" / f"snapshot_date={last}" / "memberships.parquet"
    counted = dict(
        duckdb.sql(f"select match_method, count(*) from read_parquet('{memberships}') group by 1").fetchall()
    )
    assert {m: v["rows"] for m, v in methods.items()} == counted
    assert set(counted) <= {"credit_code", "exact_name", "normalized_name", "unmatched"}
    assert {"credit_code", "exact_name", "normalized_name"} <= set(counted)
    assert abs(sum(v["share"] for v in methods.values()) - 1) < 1e-3


def test_the_last_nights_figures_equal_the_generators_including_expired_certificates(exports, in_order):
    last = (START + dt.timedelta(days=NIGHTS - 1)).isoformat()
    truth = json.loads((exports / "_truth" / f"{last}.json").read_text(encoding="utf-8"))
    expected = truth["cities"]["440300"]["city_summary"]
    summary = in_order / "publish" / "city_summary" / f"snapshot_date={last}" / "city_summary.parquet"
    rel = duckdb.sql(f"select * from read_parquet('{summary}')")
    got = dict(zip(rel.columns, rel.fetchall()[0], strict=True))
    assert {k: got[k] for k in expected} == expected
    # Certificates expired on the way: the lists still carry them, but they no longer count.
    lists = in_order / "raw" / "qualifications" / f"export_date={last}" / "*.parquet"
    expired = duckdb.sql(
        f"select count(*) from read_parquet('{lists}') "
        f"where qualification = 'high_tech' and valid_until < date '{last}'"
    ).fetchall()[0][0]
    changes = json.loads((exports / "_truth" / "qualification_changes.json").read_text(encoding="utf-8"))
    made = sum(c["change"] == "expired" and c["qualification"] == "high_tech" for c in changes)
    assert made == 2 * (NIGHTS - 1) and expired >= made


def test_pruned_raw_nights_change_no_published_figure(exports, in_order, tmp_path, monkeypatch):
    """With SOCORG_KEEP_RAW_NIGHTS=2 the raw and landed files of the older nights are gone once the
    history state carries them, every published file is what keeping everything gives, and a night that
    could no longer be built again is refused, not built wrong."""
    from ingest.common.errors import StateError
    from ingest.transform.history_state import pruned_nights

    pruned = tmp_path / "pruned"
    monkeypatch.setenv("SOCORG_KEEP_RAW_NIGHTS", "2")
    run_nights(exports, pruned, list(range(NIGHTS)))
    gone = [START + dt.timedelta(days=k) for k in range(NIGHTS - 2)]
    assert pruned_nights(pruned) == gone
    for night in gone:
        for source in ("registry", "membership", "qualifications"):
            assert not (pruned / "raw" / source / f"export_date={night}").exists()
            assert not (pruned / "landing" / source / night.isoformat()).exists()
    assert (pruned / "raw" / "registry" / f"export_date={START + dt.timedelta(days=NIGHTS - 1)}").exists()
    # The standing lists hold until replaced: the first night's stay, later nights read them.
    assert list((pruned / "raw" / "inspections" / f"export_date={START}").glob("inspection_*.parquet"))
    compared = 0
    for path in sorted((in_order / "publish").glob("*/snapshot_date=*/*.parquet")):
        relative = path.relative_to(in_order / "publish")
        assert (pruned / "publish" / relative).read_bytes() == path.read_bytes(), relative
        compared += 1
    assert compared >= NIGHTS * 10

    with pytest.raises(
        StateError, match=r"night 2023-10-31 cannot be built again: its raw files were pruned"
    ):
        run_nights(exports, pruned, [0])
    with pytest.raises(StateError, match=r"2023-11-02 cannot be built again: .* pruned \(up to 2023-11-01\)"):
        run_nights(exports, pruned, [2])
    with pytest.raises(StateError, match=r"2023-10-30 cannot be built again"):  # a backfill before them
        run_nights(exports, pruned, [-1])
    # A warehouse from an older backup, without a pruned night: not built again from what is left.
    with duckdb.connect(str(pruned / "warehouse.duckdb")) as con:
        con.execute(
            "delete from intermediate.int_registry_night_diffs "
            f"where snapshot_date = date '{START + dt.timedelta(days=1)}'"
        )
    night = pipeline.Night(START + dt.timedelta(days=NIGHTS - 1), str(exports), pruned)
    with pytest.raises(StateError, match=r"does not carry the pruned nights 2023-11-01 \(an older backup"):
        pipeline.transform(night)
    # A warehouse lost with raw nights pruned: history is not built again from what is left.
    (pruned / "warehouse.duckdb").rename(pruned / "warehouse.duckdb.lost")
    with pytest.raises(StateError, match=r"lacks the history state .*int_registry_night_diffs"):
        pipeline.transform(night)
