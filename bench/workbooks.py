"""Workbook benchmark: reading a national-size registry written as .xlsx, calamine against openpyxl.

Usage: python bench/workbooks.py [--rows 1000000] [--out DIR] [--results bench/RESULTS.md]
The workbook is the CSV of bench/ingest.py written by openpyxl (once, kept in --out). Each measurement
runs in its own process so that its peak memory is its own.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]
from measure import measure, report_task, write_section  # noqa: E402


def generate(path: Path, rows: int, encoding: str) -> None:
    """bench/ingest.py's registry export (`import ingest` is the package: load the script by path)."""
    spec = importlib.util.spec_from_file_location("bench_ingest", BENCH / "ingest.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.generate(path, rows, encoding)


NAME = "registry_100000_20231031.xlsx"


def write_workbook(csv_path: Path, xlsx_path: Path) -> None:
    """The CSV's rows as one sheet, numbers as numbers, written as it streams (openpyxl write-only)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("登记信息")
    with csv_path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            sheet.append([int(c) if c.isdigit() and len(c) < 10 else c for c in row])
    book.save(xlsx_path)


def task_openpyxl(source: str) -> dict:
    import openpyxl

    started = time.perf_counter()
    book = openpyxl.load_workbook(source, read_only=True)
    rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


def task_calamine(source: str) -> dict:
    from ingest.parse.workbooks import workbook_rows

    started = time.perf_counter()
    rows = sum(1 for _ in workbook_rows(Path(source), 0))
    return {"seconds": time.perf_counter() - started, "rows": rows}


def task_ours(source: str, target: str) -> dict:
    from ingest.parse.files import parse_file
    from ingest.rules.layouts import load_layout

    started = time.perf_counter()
    out = Path(target)
    load = parse_file(
        Path(source), NAME, load_layout("registry"), dt.date(2023, 10, 31), out / "raw", out / "q", "bench"
    )
    return {"seconds": time.perf_counter() - started, "rows": load.rows_read, "loaded": load.rows_loaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("data/bench"))
    parser.add_argument("--results", type=Path, default=Path("bench/RESULTS.md"))
    parser.add_argument("--task", choices=["openpyxl", "calamine", "ours"])
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()
    if args.task:
        tasks = {"openpyxl": task_openpyxl, "calamine": task_calamine, "ours": task_ours}
        report_task(tasks[args.task](*args.args))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    source, workbook = args.out / f"registry_{args.rows}.csv", args.out / f"registry_{args.rows}.xlsx"
    if not workbook.exists():
        print(f"writing {args.rows:,} rows as .xlsx …", flush=True)
        generate(source, args.rows, "utf-8")
        write_workbook(source, workbook)
    results = {
        "openpyxl": measure(__file__, "openpyxl", str(workbook)),
        "calamine": measure(__file__, "calamine", str(workbook)),
        "ours": measure(__file__, "ours", str(workbook), str(args.out / "ours_xlsx")),
    }
    report(args, workbook, results)


def report(args, workbook: Path, results: dict) -> None:
    base, mib = results["openpyxl"]["seconds"], workbook.stat().st_size / 2**20
    lines = [
        "## Workbooks: a national-size registry as .xlsx",
        "",
        f"Command: `python bench/workbooks.py --rows {args.rows}` (`make bench-ingest`), "
        f"run {dt.date.today()}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Input: {args.rows:,} rows × 16 columns written by openpyxl, {mib:.0f} MiB.",
        "",
        "| measurement | rows | seconds | rows/s | peak memory | speed vs openpyxl |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, label in [
        ("openpyxl", "openpyxl read-only, every row's values (the reader before)"),
        ("calamine", "calamine (`ingest/parse/workbooks.py`), every row's values"),
        ("ours", "our parse (calamine, rows typed in Python) → typed Parquet + quarantine (data rows)"),
    ]:
        r = results[name]
        lines.append(
            f"| {label} | {r['rows']:,} | {r['seconds']:.1f} | {r['rows'] / r['seconds']:,.0f} | "
            f"{r['peak_rss_mib']:.0f} MiB | {base / r['seconds']:.1f}× |"
        )
    write_section(args.results, "Workbooks: a national-size registry as .xlsx", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
