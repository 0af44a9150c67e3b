"""`make bench-archive`: what loading a bureau's archive costs, and what an older archive delivered after
later releases costs.

Both cities' samples (`socorg sample --dates`: as exports looked in their year) for a year-end snapshot
of the year before and the month-ends of a year; then, in a fresh data folder:
  1. `socorg run --all` with the exports root holding the year's twelve month-ends: the cost of a year of
     monthly snapshots (each night's wall time from its run record);
  2. the same command again: nothing to do (each night found unchanged before Airflow starts);
  3. the year-end snapshot of the year before delivered, and `socorg run --all` again: that night, then
     each of the twelve later releases built again once, in date order.
Writes a section of bench/RESULTS.md.

    python bench/archive.py --year 2022 --out data/bench/archive
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.measure import run_measured, write_section  # noqa: E402

SOURCES = ("registry", "membership", "qualifications", "funding")


def month_ends(year: int) -> list[dt.date]:
    return [dt.date(year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1) for m in range(1, 13)]


def socorg(*args: str) -> list[str]:
    return [sys.executable, "-m", "ingest.cli", *args]


def deliver(sample: Path, exports: Path, dates: list[dt.date]) -> None:
    """Copy the sample's exports of `dates` into the exports root (as an office's archive arrives)."""
    for date in dates:
        for source in SOURCES:
            folder = sample / source / date.isoformat()
            if folder.exists() and not (exports / source / date.isoformat()).exists():
                shutil.copytree(folder, exports / source / date.isoformat())


def night_seconds(data: Path, dates: list[dt.date]) -> dict[str, float]:
    """Each night's wall seconds in Airflow, from its run record (nights found unchanged have none)."""
    seconds = {}
    for date in dates:
        record = data / "runs" / date.isoformat() / "run.json"
        if record.exists():
            seconds[date.isoformat()] = json.loads(record.read_text(encoding="utf-8"))["seconds"]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2022, help="the year of month-end snapshots")
    parser.add_argument("--out", type=Path, default=Path("data/bench/archive"))
    parser.add_argument("--results", type=Path, default=Path("bench/RESULTS.md"))
    args = parser.parse_args()
    months, before = month_ends(args.year), dt.date(args.year - 1, 12, 31)
    sample, exports, data = args.out / "sample", args.out / "exports", args.out / "data"
    env = {
        **os.environ,
        "SOCORG_SETTLE_SECONDS": "0",
        "SOCORG_EXPORTS": str(exports),
        "SOCORG_DATA": str(data),
    }
    if not (sample / "_truth" / f"{months[-1]}.json").exists():
        shutil.rmtree(sample, ignore_errors=True)
        dates = ",".join(d.isoformat() for d in [before, *months])
        run_measured(socorg("sample", "--out", str(sample), "--dates", dates), env)
    shutil.rmtree(exports, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    deliver(sample, exports, months)
    year = run_measured(socorg("run", "--all"), env)
    assert year["returncode"] == 0, year["stdout"][-3000:] + year["stderr"][-3000:]
    first = night_seconds(data, months)
    again = run_measured(socorg("run", "--all"), env)
    assert again["returncode"] == 0 and "running the socorg_nightly DAG" not in again["stdout"]
    for date in months:  # the records of the first load, to tell the rebuilt nights from them
        (data / "runs" / date.isoformat() / "run.json").rename(
            data / "runs" / date.isoformat() / "run.first.json"
        )
    deliver(sample, exports, [before])
    older = run_measured(socorg("run", "--all"), env)
    assert older["returncode"] == 0, older["stdout"][-3000:] + older["stderr"][-3000:]
    rebuilt = night_seconds(data, [before, *months])
    plan = re.search(r"socorg run: (\d+) release\(s\) published before were built after", older["stdout"])
    report(args, months, before, year, first, again, older, rebuilt, plan)


def report(args, months, before, year, first, again, older, rebuilt, plan) -> None:
    per_night = year["wall_seconds"] / len(first)  # with what a night costs outside Airflow
    lines = [
        "## Archive: a year of monthly snapshots, and an older snapshot delivered after them",
        "",
        f"Command: `python bench/archive.py --year {args.year}` (`make bench-archive`), "
        f"run {dt.date.today()}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "Input: the two city samples (Suzhou, Shenzhen: about 15,000 organizations and 27,000 memberships "
        f"a night), {len(months)} month-end snapshots of {args.year}, then the year-end of {before.year}.",
        "",
        "| step | nights built | wall time | per night built (wall) | peak memory |",
        "|---|---:|---:|---:|---:|",
        f"| `socorg run --all`: the {len(months)} month-ends of {args.year} | {len(first)} | "
        f"{year['wall_seconds']:.0f} s | {per_night:.1f} s | {year['peak_rss_mib']:.0f} MiB |",
        "| the same again: nothing to do (unchanged before Airflow starts) | 0 | "
        f"{again['wall_seconds']:.1f} s | — | {again['peak_rss_mib']:.0f} MiB |",
        f"| {before} delivered after them: it, then each later release once | {len(rebuilt)} | "
        f"{older['wall_seconds']:.0f} s | {older['wall_seconds'] / max(1, len(rebuilt)):.1f} s | "
        f"{older['peak_rss_mib']:.0f} MiB |",
        "",
        f"Before the older night ran, `socorg run` said that {plan.group(1) if plan else '?'} releases "
        "published before would be built again. A year of nightly snapshots at this size is about "
        f"365 × {per_night:.0f} s ≈ {365 * per_night / 3600:.1f} h; a year-end archive of ten years about "
        f"{10 * per_night / 60:.1f} min.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    write_section(args.results, "Archive:", text)


if __name__ == "__main__":
    main()
