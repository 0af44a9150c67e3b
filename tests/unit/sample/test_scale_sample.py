"""Province- and national-size samples (`socorg sample --scale`): many cities, exact totals, valid
codes, the same bytes for the same seed, and a night the pipeline publishes whole. Run small here."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import random
import re

import duckdb
import pyarrow.parquet as pq
import pytest
from runner import socorg

from ingest.land.landing import land_night
from ingest.parse.files import parse_file, parse_files
from ingest.parse.night import FILES_PER_WORKER, parse_night
from ingest.rules.creditcode import check_character
from ingest.rules.layouts import layout_for
from ingest.sample.scale import SCALES, Scale, scale_cities, write_scale

DATE = dt.date(2023, 10, 31)
SMALL = Scale(organizations=3_000, memberships=30_000, province="320000")  # Jiangsu, a 30th of province


def read_export(path) -> list[list[str]]:
    """Every line of a sample CSV export, decoded as the generator wrote it."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return list(csv.reader(io.StringIO(raw.decode(encoding))))
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"{path} is neither UTF-8 nor GB18030")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("scale") / "exports"
    return out, write_scale(out, DATE, "province", progress=False, scale=SMALL)


def test_every_city_of_the_province_gets_its_registry_export(small):
    out, truth = small
    jiangsu = {c.code for c in scale_cities(SCALES["province"])}
    assert len(jiangsu) == 13 and "320500" in jiangsu
    files = sorted(p.name for p in (out / "registry" / DATE.isoformat()).iterdir())
    assert files == sorted(f"registry_{code}_20231031.csv" for code in jiangsu)
    assert set(truth["cities"]) == jiangsu


def test_national_scale_spans_every_province():
    cities = scale_cities(SCALES["national"])
    assert len({c.code[:2] for c in cities}) == 31
    assert len(cities) > 300
    assert all(c.districts for c in cities)
    # Names prefix every organization and enterprise: no two cities may share one (市辖区, 省直辖…).
    assert len({c.name.removesuffix("市") for c in cities}) == len(cities)


def test_totals_are_exact_and_each_file_holds_what_the_truth_says(small):
    out, truth = small
    registry_rows = 0
    for path in (out / "registry" / DATE.isoformat()).iterdir():
        title, header, *rows, footer = read_export(path)
        assert header[1] in ("统一社会信用代码", "信用代码")
        assert footer == [f"合计：{len(rows)}"]
        assert len(rows) == truth["cities"][path.name.split("_")[1]]["registry_rows"]
        registry_rows += len(rows)
    membership_rows = sum(len(read_export(p)) - 1 for p in (out / "membership" / DATE.isoformat()).iterdir())
    assert registry_rows == truth["rows"]["registry"] == SMALL.organizations
    assert membership_rows == truth["rows"]["membership"] == SMALL.memberships


def test_codes_are_valid_and_every_association_is_an_active_registered_social_group(small):
    out, _ = small
    registered = {}
    for path in (out / "registry" / DATE.isoformat()).iterdir():
        for row in read_export(path)[2:-1]:
            code = row[1]
            assert len(code) == 18 and check_character(code[:17]) == code[17], code
            registered[code] = row
    assert len(registered) == SMALL.organizations  # unique
    associations = [p.name.split("_")[1] for p in (out / "membership" / DATE.isoformat()).iterdir()]
    assert len(associations) >= 13
    for code in associations:
        assert registered[code][3] == "社会团体" and registered[code][11] == "正常"


def test_a_random_code_drawn_twice_is_drawn_again(monkeypatch, tmp_path):
    """Random codes collide now and then at national size (8 random digits per county); a city's
    enterprises and organizations must still all differ, or members are quarantined as duplicates."""
    from ingest.sample import scale

    drawn = iter(["91320505AAAAAAAA1X", "91320505AAAAAAAA1X", "91320505BBBBBBBB2Y"])
    monkeypatch.setattr(scale, "make_code", lambda *args: next(drawn))
    city = scale.City("320500", "苏州市", ["320505"])
    writer = scale._CityWriter(tmp_path, DATE, city, 0, random.Random(1), None, None)
    assert [writer._new_code("9", "1", "320505") for _ in range(2)] == [
        "91320505AAAAAAAA1X",
        "91320505BBBBBBBB2Y",
    ]


def test_the_same_seed_writes_the_same_bytes(small, tmp_path):
    out, _ = small
    again = tmp_path / "again"
    write_scale(again, DATE, "province", progress=False, scale=SMALL)

    def digests(root):
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.csv")
        }

    assert digests(again) == digests(out)


def test_the_cli_refuses_scale_with_a_city(tmp_path):
    done = socorg(
        "sample", "--out", str(tmp_path), "--date", "2023-10-31", "--scale", "province", "--city", "suzhou",
        env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 2
    assert "--scale province writes one night of many cities; drop --city and --nights" in done.stderr


def test_parse_workers_give_what_one_process_gives(small, tmp_path, monkeypatch):
    """Many files are parsed by worker processes; the raw partitions and the load log are the same."""
    out, _ = small
    results = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("SOCORG_PARSE_WORKERS", workers)
        data = tmp_path / workers
        land_night(str(out), DATE, data)
        loads = parse_night(data, DATE)
        rows = [{k: v for k, v in load.as_row().items() if k != "seconds"} for load in loads]
        with duckdb.connect() as con:
            raw = con.execute(f"select * from '{data}/raw/membership/*/*.parquet' order by all").fetchall()
        results[workers] = rows, raw
    assert len(results["2"][0]) > 2 * FILES_PER_WORKER  # enough files for two workers
    assert results["2"] == results["1"]
    assert len(results["1"][1]) == SMALL.memberships


def test_membership_files_parsed_together_come_out_as_parsed_alone(tmp_path):
    """A batch of real-sized membership files is one DuckDB query, which interleaves the files' rows
    (seen with 78 files of about 2,000 rows): every file must still get exactly its own rows, in
    order, as when parsed alone."""
    out = tmp_path / "exports"
    write_scale(out, DATE, "province", progress=False, scale=Scale(3_000, 120_000, province="320000"))
    files = sorted((out / "membership" / DATE.isoformat()).glob("*.csv"))
    layout = layout_for("membership", files[0].name)
    together = parse_files(
        [(f, f.name, layout, DATE, tmp_path / "together", tmp_path / "together-q", "sha") for f in files]
    )
    assert len(files) >= 10 and all(load.rows_read > 0 for load in together)
    for path, load in zip(files, together, strict=True):
        alone = parse_file(path, path.name, layout, DATE, tmp_path / "alone", tmp_path / "alone-q", "sha")
        assert load.rows_loaded == alone.rows_loaded
        assert load.typed_by == alone.typed_by == "duckdb", f"{path.name}: the batch fell back to Python"
        for folder in ("together", "together-q"):
            written = pq.read_table(tmp_path / folder / f"{path.stem}.parquet")
            assert written.equals(
                pq.read_table(tmp_path / folder.replace("together", "alone") / f"{path.stem}.parquet")
            ), path.name


# The province as the reports describe it, with few memberships (they do not change the registry).
JIANGSU = Scale(organizations=0, memberships=3_000, province="320000", suzhou_as_city_sample=True)


@pytest.fixture(scope="module")
def jiangsu(tmp_path_factory):
    out = tmp_path_factory.mktemp("jiangsu") / "exports"
    return out, write_scale(out, DATE, "province", progress=False, scale=JIANGSU)


def test_the_province_sample_holds_suzhou_as_the_city_sample_writes_it(jiangsu, tmp_path, suzhou_figures):
    from ingest.sample.generate import write_sample

    out, truth = jiangsu
    city = tmp_path / "city"
    write_sample(city, DATE, "suzhou")
    written = [p for p in city.rglob("*") if p.is_file() and "_truth" not in p.parts]
    assert len(written) > 30
    for path in written:
        relative = path.relative_to(city)
        if relative.parts[0] == "qualifications" and not path.name.startswith("top100_"):
            relative = relative.with_name(f"suzhou_{path.name}")  # beside the province's lists
        assert (out / relative).read_bytes() == path.read_bytes(), relative
    assert truth["cities"]["320500"]["active_org_count"] == suzhou_figures["active_org_count"] == 7724
    # Suzhou is 10 % of the province: its 13 cities and the organizations the province registered itself.
    assert truth["province"] == {"province_code": "320000", "active_org_count": 77_240, "city_count": 13}
    assert (out / "registry" / DATE.isoformat() / "registry_320000_20231031.csv").exists()


@pytest.mark.e2e
def test_the_pipeline_publishes_the_province_and_gives_suzhou_a_tenth_of_it(jiangsu, tmp_path):
    out, truth = jiangsu
    env = {**os.environ, "SOCORG_EXPORTS": str(out), "SOCORG_DATA": str(tmp_path / "data")}
    done = socorg("run", "--date", DATE.isoformat(), env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    publish = tmp_path / "data" / "publish"
    with duckdb.connect() as con:
        [province] = con.execute(
            "select province_code, province_name, active_org_count, city_count, is_complete "
            f"from '{publish}/province_summary/*/*.parquet'"
        ).fetchall()
        query = (
            f"select city_code, province_share, active_org_count from '{publish}/city_summary/*/*.parquet'"
        )
        cities = con.execute(query).fetchall()
        [(memberships,)] = con.execute(f"select count(*) from '{publish}/memberships/*/*.parquet'").fetchall()
    shares = {code: share for code, share, _ in cities}
    assert {code: active for code, _, active in cities} == {
        code: city["active_org_count"] for code, city in truth["cities"].items()
    }
    loads = duckdb.sql(
        f"select sum(rows_loaded) from '{publish}/loads/*/*.parquet' where source = 'membership'"
    )
    assert JIANGSU.memberships < memberships <= loads.fetchall()[0][0]  # the other cities' and Suzhou's
    # Thirteen cities are summed in the run's output, not printed one by one.
    active = sum(city["active_org_count"] for city in truth["cities"].values())
    assert f"13 cities, together (each city's figures: {publish}/city_summary/" in done.stdout
    assert re.search(rf"active_org_count\s+{active:,}\n", done.stdout)
    assert "city 320100" not in done.stdout
    assert province == ("320000", "江苏省", 77_240, 13, True)
    assert shares["320500"] == 0.1
    assert sum(shares.values()) == pytest.approx(
        1 - truth["province_registered"]["active_org_count"] / 77_240
    )
    assert "province 320000 江苏省: 77,240 active organizations; 13 of 13 cities delivered" in done.stdout
