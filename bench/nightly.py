"""`make bench`: our nightly DAG end to end against the floor (plain DuckDB) and the peer (plain pandas).

For each size (city, province, national) on the same generated exports, in one invocation:
  ours    `socorg run` — Airflow, landing, parse, GX gate, dbt build and tests, publish;
  rerun   `socorg run` again on the unchanged exports (compared with the release, Airflow not started);
  floor   bench/floor.py — one DuckDB script from the CSV files to the six published datasets;
  peer    bench/peer.py — the same in pandas.
Each runs in a fresh process; wall time per stage, peak memory of the process tree, the ratios, and
whether the three agree on every city's summary. Writes a section of bench/RESULTS.md.

The peer's address space is capped (`--peer-memory-gib`, 12 GiB by default, twice ours' budget): at
national size pandas needs more than the machine has, and uncapped it thrashes the machine for half an
hour before the kernel kills it; capped, it stops with a MemoryError as soon as it passes the cap.

    python bench/nightly.py --sizes city,province,national --out data/bench/nightly
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.measure import run_measured, write_section  # noqa: E402
from bench.plain import SUMMARY_FIGURES  # noqa: E402
from ingest.sample.scale import SCALES, Scale, write_scale  # noqa: E402

BENCH = Path(__file__).resolve().parent
SIZES = {
    "city": Scale(organizations=8_000, memberships=15_000, province=None, city="320500"),  # Suzhou
    # Jiangsu generated city by city — the hand-made Suzhou sample's quarantine rules are socorg's alone
    # (its own tests cover them) — with Suzhou's registry as a workbook and the province's own registry:
    # files the floor and the peer read too, so that all three do the same work.
    "province": replace(
        SCALES["province"], suzhou_as_city_sample=False, spreadsheet_city="320500", province_registry=True
    ),
    "national": SCALES["national"],
}
TARGETS = {
    "ratio_to_floor": 1.8,  # national, ours / floor
    "peak_gib": 6.0,
    "peer_ratio": 5.0,  # national, peer / ours
    "rerun_seconds": 5.0,  # an unchanged night
    "city_seconds": 15.0,  # city, end to end through socorg run
}
WARM = ("city", "province")  # sizes whose night is measured in a data folder that has run one before


def exports_for(size: str, out: Path, date: dt.date, seed: int) -> tuple[Path, dict]:
    """The size's exports, generated unless the same size, seed and date are already there."""
    exports = out / size / "exports"
    spec = {"size": size, "seed": seed, "date": date.isoformat(), **SIZES[size].__dict__}
    marker = out / size / "exports.json"
    if marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == spec:
        print(f"{size}: reusing the exports in {exports}", flush=True)
        return exports, json.loads((exports / "_truth" / f"{date}.json").read_text(encoding="utf-8"))
    shutil.rmtree(exports, ignore_errors=True)
    marker.unlink(missing_ok=True)
    print(f"{size}: generating exports in {exports}", flush=True)
    truth = write_scale(exports, date, size, seed, progress=sys.stderr.isatty(), scale=SIZES[size])
    marker.write_text(json.dumps(spec), encoding="utf-8")
    return exports, truth


def socorg_run(date: dt.date, nights: int = 1, *where: str) -> list[str]:
    """The `socorg run` command line of `nights` nights from `date` (`where`: --exports/--data)."""
    command = [sys.executable, "-m", "ingest.cli", "run", "--date", date.isoformat(), *where]
    return command + (["--nights", str(nights)] if nights > 1 else [])


def night_stages(data: Path, date: dt.date) -> tuple[dict, dict]:
    """A night's run record: seconds per task that ran, and the tasks as recorded."""
    record = json.loads((data / "runs" / date.isoformat() / "run.json").read_text(encoding="utf-8"))
    stages = {task: t["seconds"] for task, t in record["tasks"].items() if t["state"] != "skipped"}
    return stages, record["tasks"]


def run_ours(exports: Path, data: Path, date: dt.date, env: dict, *extra: str) -> dict:
    """`socorg run` of the night on `data`; wall time, peak memory and each task's seconds."""
    result = run_measured(socorg_run(date, 1, "--exports", str(exports), "--data", str(data), *extra), env)
    _check(result, "socorg run")
    stages, tasks = night_stages(data, date)
    stages["Airflow and process start-up"] = round(result["wall_seconds"] - sum(stages.values()), 2)
    return {**_figures(result), "stages": stages, "tasks": tasks}


def run_rerun(exports: Path, data: Path, date: dt.date, env: dict) -> dict:
    """`socorg run` again on unchanged exports: it compares them with the release and stops before
    Airflow starts; wall time, peak memory, and whether it did stop there."""
    result = run_measured(socorg_run(date, 1, "--exports", str(exports), "--data", str(data)), env)
    _check(result, "socorg run (unchanged exports)")
    skipped = "nothing rebuilt" in result["stdout"]
    stage = "exports compared with the release" if skipped else "a full night again (not skipped)"
    return {**_figures(result), "stages": {stage: result["wall_seconds"]}, "skipped_before_airflow": skipped}


def run_plain(
    script: str, exports: Path, out: Path, date: dt.date, env: dict, memory_gib: float | None = None
) -> dict:
    """bench/floor.py or bench/peer.py; wall time, peak memory, stages — or how it failed. With
    `memory_gib`, the script's address space is capped there and it fails when it needs more."""
    command = [
        sys.executable,
        str(BENCH / script),
        "--exports",
        str(exports),
        "--date",
        date.isoformat(),
        "--out",
        str(out),
    ]
    cap = None if memory_gib is None else int(memory_gib * 2**30)
    result = run_measured(command, env, limit_address_space=cap)
    if result["returncode"] != 0:
        killed = result["returncode"] < 0 or any(
            sign in result["stderr"] for sign in ("MemoryError", "bad_alloc", "Cannot allocate memory")
        )
        if not killed:
            return {**_figures(result), "failed": result["stderr"][-600:]}
        beyond = "" if memory_gib is None else f" (more than the {memory_gib:g} GiB it was given)"
        return {**_figures(result), "failed": "out of memory" + beyond}
    report = json.loads(result["stdout"].strip().splitlines()[-1])
    stages = dict(report["stages"])
    stages["process start-up"] = round(result["wall_seconds"] - sum(stages.values()), 2)
    return {**_figures(result), "stages": stages, "rows": report["rows"], "marts": report["marts"]}


def _figures(result: dict) -> dict:
    return {"seconds": result["wall_seconds"], "peak_mib": result["peak_rss_mib"]}


def _check(result: dict, what: str) -> None:
    if result["returncode"] != 0:
        raise SystemExit(
            f"{what} failed (exit {result['returncode']}):\n{result['stdout'][-2000:]}"
            f"\n{result['stderr'][-2000:]}"
        )


def city_summaries(path: Path) -> dict[str, tuple]:
    """Each city's summary figures from a city_summary Parquet file (or folder of them)."""
    columns = ", ".join(SUMMARY_FIGURES)
    rows = duckdb.sql(
        f"select city_code, {columns} from read_parquet('{path}') order by city_code"
    ).fetchall()
    return {row[0]: tuple(int(x) for x in row[1:]) for row in rows}


def agreement(ours_data: Path, date: dt.date, plain: dict[str, dict], truth: dict) -> tuple[bool, str]:
    """Whether ours and the plain scripts that finished give every city the same summary figures, and
    the truth's active counts (and how to say it); the differences otherwise."""
    ours = city_summaries(ours_data / "publish" / "city_summary" / f"snapshot_date={date}" / "*.parquet")
    problems, compared = [], ["ours"]
    for name, result in plain.items():
        if "marts" not in result:
            continue
        compared.append(f"the {name}")
        theirs = city_summaries(Path(result["marts"]) / "city_summary.parquet")
        differing = sorted(c for c in set(ours) | set(theirs) if ours.get(c) != theirs.get(c))
        if differing:
            problems.append(f"the {name} differs from ours in {len(differing)} cities, e.g. {differing[:3]}")
    active = {code: city["active_org_count"] for code, city in truth["cities"].items()}
    if {code: figures[0] for code, figures in ours.items()} != active:
        problems.append("ours differs from the generator's active counts")
    if problems:
        return False, "; ".join(problems)
    cities = "the city's summary" if len(ours) == 1 else f"{len(ours)} cities' summaries"
    who = "all three agree" if len(compared) == 3 else " and ".join(compared) + " agree"
    return True, f"{who} on every figure of {cities}, and with the generator's truth"


def bench_size(size: str, out: Path, date: dt.date, seed: int, peer_memory_gib: float | None) -> dict:
    exports, truth = exports_for(size, out, date, seed)
    # The exports were just written whole: no settle wait in the timings.
    env = {**os.environ, "AIRFLOW_HOME": str(out / "airflow"), "SOCORG_SETTLE_SECONDS": "0"}
    data = out / size / "ours"
    shutil.rmtree(data, ignore_errors=True)
    first = None
    if size in WARM:
        # A deployment's night: its data folder, Airflow metadata DB, dbt's parsed project and docs are
        # there from the nights before. The first night of a new data folder is measured apart.
        print(f"{size}: ours, the first night of a new data folder", flush=True)
        first = run_ours(exports, data, date, env)
        print(f"{size}: ours (socorg run --force: the night as a deployment runs it)", flush=True)
        ours = run_ours(exports, data, date, env, "--force")
    else:
        print(f"{size}: ours (socorg run)", flush=True)
        ours = run_ours(exports, data, date, env)
    print(f"{size}: ours again, exports unchanged", flush=True)
    rerun = run_rerun(exports, data, date, env)
    plain = {}
    for name in ("floor", "peer"):
        print(f"{size}: {name}", flush=True)
        cap = peer_memory_gib if name == "peer" else None
        plain[name] = run_plain(f"{name}.py", exports, out / size / name, date, env, cap)
    agree, said = agreement(data, date, plain, truth)
    result = {
        "size": size,
        "run_on": dt.date.today().isoformat(),
        "commit": _commit(),
        "rows": truth["rows"],
        "cities": len(truth["cities"]),
        **({"first": first} if first else {}),
        "ours": ours,
        "rerun": rerun,
        **plain,
        "peer_memory_gib": peer_memory_gib,
        "agree": agree,
        "agreement": said,
    }
    (out / size / "result.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, ensure_ascii=False)[:2000], flush=True)
    return result


def _commit() -> str:
    """The checkout's commit, with `+changes` when the working tree differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(BENCH.parent), *args], capture_output=True, text=True)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no")
    return (git("rev-parse", "--short", "HEAD") or "unknown") + ("+changes" if changed else "")


def saved_results(out: Path) -> list[dict]:
    """Every size's last result under `out`, smallest size first."""
    paths = [out / size / "result.json" for size in SIZES]
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths if p.exists()]


def render(results: list[dict], command: str) -> str:
    """The RESULTS.md section: machine, command, one table per size, the targets."""
    lines = [
        "## Nightly run: ours against the floor and the pandas peer",
        "",
        f"Command: `{command}` (`make bench`), run {dt.date.today()}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil_total_gib():.0f} GiB, Python {platform.python_version()}.",
        "Each run is a fresh process; peak memory is the largest sum of resident memory over the process "
        "and its children (sampled every 0.1 s). *ours* is `socorg run` (Airflow `dag.test`, landing, "
        "parse, GX gate, dbt build with tests, publish); *floor* is `bench/floor.py` (one DuckDB script); "
        "*peer* is `bench/peer.py` (pandas). The floor and the peer compute the six published datasets "
        "of the night; ours also validates, quarantines, keeps history and writes the release files. "
        "The peer's address space is capped (`--peer-memory-gib`, 12 GiB by default) so that at national "
        "size it fails when it passes the cap instead of thrashing the machine.",
        "",
    ]
    for r in results:
        lines += _size_table(r)
    lines += _targets(results)
    return "\n".join(lines) + "\n"


def psutil_total_gib() -> float:
    import psutil

    return psutil.virtual_memory().total / 2**30


def _size_table(r: dict) -> list[str]:
    rows = r["rows"]
    cities = f"{r['cities']} {'city' if r['cities'] == 1 else 'cities'}"
    lines = [
        f"### {r['size']}: {cities}, {rows['registry']:,} organizations, "
        f"{rows['membership']:,} memberships, {rows['qualifications']:,} qualification rows",
        "",
        f"Run {r['run_on']} at commit {r['commit']}.",
        "",
        "| stage | seconds |",
        "|---|---:|",
    ]
    for who in ("first", "ours", "rerun", "floor", "peer"):
        if who not in r:
            continue
        result = r[who]
        if "failed" in result:
            failure = f"failed — {result['failed'][:200]} (peak {result['peak_mib']:,.0f} MiB)"
            lines.append(f"| **{who}**: {failure} | {result['seconds']:.1f} |")
            continue
        label = {
            "rerun": "ours, re-run with unchanged exports",
            "first": "ours, the first night of a new data folder (not compared)",
            "ours": "ours" + (", a night of a data folder that ran one before" if "first" in r else ""),
        }.get(who, who)
        lines.append(f"| **{label}** (peak {result['peak_mib']:,.0f} MiB) | **{result['seconds']:.1f}** |")
        lines += [f"| &nbsp;&nbsp;{stage} | {seconds:.1f} |" for stage, seconds in result["stages"].items()]
    ours = r["ours"]["seconds"]
    if not r.get("agree", True):
        return [*lines, "", f"**The three disagree — no ratio is given.** {r['agreement']}.", ""]
    ratios = [
        f"ours/floor **{ours / r['floor']['seconds']:.2f}×**" if "stages" in r["floor"] else "",
        f"peer/ours **{r['peer']['seconds'] / ours:.2f}×**"
        if "stages" in r["peer"]
        else "peer: " + r["peer"]["failed"][:60],
        f"re-run/full **{r['rerun']['seconds'] / ours:.1%}**",
    ]
    lines += ["", "Ratios: " + ", ".join(x for x in ratios if x) + ". Agreement: " + r["agreement"] + ".", ""]
    return lines


def _targets(results: list[dict]) -> list[str]:
    by_size = {r["size"]: r for r in results}
    lines = ["### Targets", "", "| target | measured | |", "|---|---:|---|"]

    def row(text: str, measured: str, met: bool) -> None:
        lines.append(f"| {text} | {measured} | {'met' if met else '**not met**'} |")

    if "national" in by_size:
        n = by_size["national"]
        ratio = n["ours"]["seconds"] / n["floor"]["seconds"]
        row("national end to end ≤ 1.8× the floor", f"{ratio:.2f}×", ratio <= TARGETS["ratio_to_floor"])
        if "failed" in n["peer"]:
            row("pandas peer ≥ 5× slower at national size (or out of memory)", n["peer"]["failed"][:60], True)
        else:
            peer = n["peer"]["seconds"] / n["ours"]["seconds"]
            row(
                "pandas peer ≥ 5× slower at national size (or out of memory)",
                f"{peer:.2f}×",
                peer >= TARGETS["peer_ratio"],
            )
    peak = max(max(r["ours"]["peak_mib"], r["rerun"]["peak_mib"]) for r in results) / 1024
    row("peak memory of ours ≤ 6 GiB (largest size run)", f"{peak:.2f} GiB", peak <= TARGETS["peak_gib"])
    for r in results:
        seconds = r["rerun"]["seconds"]
        row(f"unchanged night ≤ 5 s ({r['size']})", f"{seconds:.1f} s", seconds <= TARGETS["rerun_seconds"])
    if "city" in by_size:
        seconds = by_size["city"]["ours"]["seconds"]
        row(
            "city night ≤ 15 s end to end through socorg run",
            f"{seconds:.1f} s",
            seconds <= TARGETS["city_seconds"],
        )
    for r in results:
        row(
            f"{r['size']}: the three agree (equal work)",
            "yes" if r.get("agree", True) else "no",
            r.get("agree", True),
        )
    return [*lines, ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="city,province,national")
    parser.add_argument("--out", type=Path, default=Path("data/bench/nightly"))
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2023, 10, 31))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--peer-memory-gib",
        type=float,
        default=12.0,
        help="cap on the pandas peer's address space, GiB (0: no cap); beyond it the peer fails",
    )
    parser.add_argument(
        "--report", action="store_true", help="only rewrite RESULTS.md from the results saved under --out"
    )
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",")]
    unknown = set(sizes) - set(SIZES)
    if unknown:
        parser.error(f"unknown sizes {sorted(unknown)}; choose from {', '.join(SIZES)}")
    args.out = args.out.resolve()
    disagreeing = []
    for size in [] if args.report else sizes:
        cap = args.peer_memory_gib or None
        if not bench_size(size, args.out, args.date, args.seed, cap)["agree"]:
            disagreeing.append(size)
    # Sizes benched by earlier invocations stay in the section, each with its date and commit.
    command = "python bench/nightly.py --sizes city,province,national"
    write_section(args.results, "Nightly run", render(saved_results(args.out), command))
    print(f"written: {args.results}")
    if disagreeing:  # a ratio over unequal work is no measurement
        raise SystemExit(f"the three runs disagree at size {', '.join(disagreeing)}: see {args.results}")


if __name__ == "__main__":
    main()
