"""`make bench-gx-docs`: what building a night's Data Docs costs once GX holds a year of nights.

Takes a data folder that validated nights (default: `make bench-history SIZE=city`'s), copies its GX
store and Data Docs site, and copies the newest night's results and pages to the days before it, each
validated that many days earlier, up to `--nights` nights (as a year of nightly runs leaves them).
Then times the Data Docs of the newest night (its pages and the index) in one process, three builds
each:
  earlier  GX's own build over the whole store (its index limited, nothing set aside: before 2026-12-08);
  ours     `ingest.validate.context.build_docs`: results and pages older than the index lists are set
           aside first (the first build moves them; the next ones are a night's cost).
Writes a section of bench/RESULTS.md.

    python bench/gx_docs.py --data data/bench/history/city/data --nights 365
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.measure import write_section  # noqa: E402
from ingest.validate.context import EARLIER_RESULTS  # noqa: E402

BENCH = Path(__file__).resolve().parent


RUN_TIME = "%Y%m%dT%H%M%S.%fZ"  # how GX names a result's run-time folder


def year_of_nights(source: Path, out: Path, nights: int) -> str:
    """`out` holds source's GX store and site, the newest night's results and pages copied as the
    nights before it, each validated that many days earlier (its run-time folder); the newest night's
    date."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(source / "runs" / "gx", out / "runs" / "gx")
    shutil.copytree(source / "docs" / "gx", out / "docs" / "gx")
    for folder in (out / "runs" / "gx", out / "docs" / "gx"):  # everything in GX's sight, as before
        if (folder / EARLIER_RESULTS).exists():
            shutil.copytree(folder / EARLIER_RESULTS, folder / "validations", dirs_exist_ok=True)
            shutil.rmtree(folder / EARLIER_RESULTS)
    store = out / "runs" / "gx" / "validations"
    newest = max(p.parent.parent.name[:10] for p in store.glob("*/*/*/*.json"))
    for folder in (store, out / "docs" / "gx" / "validations"):
        for run_time in [r for r in folder.glob(f"*/{newest}-*/*") if r.is_dir()]:
            run, when = run_time.parent, dt.datetime.strptime(run_time.name, RUN_TIME)
            for k in range(1, nights):
                day = (dt.date.fromisoformat(newest) - dt.timedelta(days=k)).isoformat()
                target = run.parent / (day + run.name[10:]) / (when - dt.timedelta(days=k)).strftime(RUN_TIME)
                if not target.parent.exists():  # a night the folder validated itself stays as it was
                    shutil.copytree(run_time, target)
    return newest


def tonight(context, newest: str) -> list:
    """The newest night's result identifiers, the last validation of each run name."""
    last = {}
    for key in context.validation_results_store.list_keys():
        name = key.run_id.run_name
        if name.startswith(newest) and (name not in last or key.run_id.run_time > last[name].run_id.run_time):
            last[name] = key
    return list(last.values())


def timed(build, rounds: int = 3) -> list[float]:
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        build()
        seconds.append(time.perf_counter() - start)
    return seconds


def bench(source: Path, out: Path, nights: int) -> dict:
    os.environ["SOCORG_DATA"] = str(out)
    import ingest.validate.expectations  # noqa: F401  (GX renders our own expectations by name)
    from ingest.validate.context import build_docs, build_site, index_nights_setting, open_context

    newest = year_of_nights(source, out, nights)
    context = open_context(out)
    results = tonight(context, newest)
    stored = len(context.validation_results_store.list_keys())

    earlier = timed(lambda: build_site(context, results, len(results) * index_nights_setting()))
    ours = timed(lambda: build_docs(context, results, out))
    kept = len(context.validation_results_store.list_keys())
    aside = len(list((out / "runs" / "gx" / EARLIER_RESULTS).glob("*/*/*/*.json")))
    return {
        "nights": nights,
        "stored": stored,
        "tonight": len(results),
        "earlier": earlier,
        "ours": ours,
        "kept": kept,
        "aside": aside,
    }


def render(r: dict, source: Path) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    secs = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    return "\n".join(
        [
            "## GX Data Docs after a year of nights",
            "",
            f"Command: `python bench/gx_docs.py --data {source} --nights {r['nights']}` "
            "(`make bench-gx-docs`), "
            f"{dt.date.today().isoformat()}, commit {commit}, {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}. The newest night's {r['tonight']} results and their pages "
            f"copied to the dates before it, {r['nights']} nights in all: {r['stored']} results and as many "
            "pages in GX's sight.",
            "",
            "| build of one night's Data Docs | seconds, three builds in a row |",
            "|---|---|",
            f"| GX over the whole store (before) | {secs(r['earlier'])} |",
            "| ours: older results and pages set aside first (the first build moves them) "
            f"| {secs(r['ours'])} |",
            "",
            f"After: {r['kept']} results in GX's store (the index's), {r['aside']} set aside "
            "(`runs/gx/earlier_validations/`).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("data/bench/history/city/data"))
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--out", type=Path, default=Path("data/bench/gx_docs"))
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args(argv)
    if not (args.data / "runs" / "gx" / "validations").is_dir():
        sys.exit(f"{args.data} has no validated night: run `make bench-history SIZE=city NIGHTS=3` first")
    result = bench(args.data, args.out, args.nights)
    text = render(result, args.data)
    print(text)
    write_section(args.results, "GX Data Docs after a year of nights", text)


if __name__ == "__main__":
    main()
