"""Ingest benchmark: our streaming parse of a national-size registry export against DuckDB's read_csv,
in UTF-8 and GB18030 with commas, and in UTF-8 with tabs, semicolons and pipes and as Excel's Unicode
text (UTF-16, tabs).

Usage: python bench/ingest.py [--rows 1000000] [--out DIR] [--results bench/RESULTS.md]
Each measurement runs in its own process so that its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import sys
import time
from pathlib import Path

# This file is bench/ingest.py: its folder goes last on the path so that `import ingest` finds the package.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]
from measure import measure, report_task, write_section  # noqa: E402

HEADER = [
    "序号",
    "统一社会信用代码",
    "社会组织名称",
    "社会组织类型",
    "登记管理机关",
    "业务主管单位",
    "法定代表人",
    "成立登记日期",
    "注册资金（万元）",
    "住所",
    "行政区划代码",
    "登记状态",
    "评估等级",
    "评估有效期至",
    "业务范围",
    "联系电话",
]
TYPES = [("1", "社会团体"), ("2", "民办非企业单位"), ("3", "基金会")]


# The files parsed: name → (encoding, delimiter, extension). A target ratio to the floor per name.
FILES = {
    "utf-8": ("utf-8", ",", "csv"),
    "gb18030": ("gb18030", ",", "csv"),
    "tab": ("utf-8", "\t", "tsv"),
    "semicolon": ("utf-8", ";", "csv"),
    "pipe": ("utf-8", "|", "txt"),
    "utf-16": ("utf-16", "\t", "txt"),
}
TARGETS = {"utf-8": 2, "gb18030": 3, "tab": 2, "semicolon": 2, "pipe": 2, "utf-16": 3, "odd": 2}
LABELS = {
    "utf-8": "utf-8, commas",
    "gb18030": "gb18030, commas",
    "tab": "utf-8, tabs (.tsv)",
    "semicolon": "utf-8, semicolons",
    "pipe": "utf-8, pipes (.txt)",
    "utf-16": "Unicode text: utf-16, tabs, CRLF (.txt)",
    "odd": "utf-8, commas, one U+00A0 in the middle row",
}


def generate(path: Path, rows: int, encoding: str, delimiter: str = ",") -> None:
    """A registry export of `rows` organizations across many divisions, written as it streams."""
    from ingest.rules.creditcode import make_code

    rng = random.Random(1)
    divisions = [
        line.split(",")[0] for line in (Path("dbt_project/seeds/divisions.csv")).read_text().splitlines()[1:]
    ]
    divisions = [d for d in divisions if not d.endswith("00")]
    line_end = "\r\n" if encoding == "utf-16" else "\n"  # as Excel saves Unicode text
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator=line_end)
        writer.writerow(["全国社会组织登记信息（截至2023年10月31日）"])
        writer.writerow(HEADER)
        for i in range(1, rows + 1):
            category, label = TYPES[i % 3]
            division = divisions[i % len(divisions)]
            day = dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(12000))
            writer.writerow(
                [
                    i,
                    make_code("5", category, division, rng),
                    f"第{i}号社会组织服务中心",
                    label,
                    f"{division}民政局",
                    "",
                    "张三",
                    day.isoformat() if i % 2 else f"{day.year}年{day.month}月{day.day}日",
                    f"{rng.randint(3, 500)}",
                    f"某某路{i}号",
                    division,
                    "正常" if i % 10 else "已注销",
                    ["", "3A", "AAAA", "5A级"][i % 4],
                    "",
                    "开展行业交流、培训、咨询服务，承办政府委托事项",
                    "13900000000",
                ]
            )
        writer.writerow([f"合计：{rows}"])


def with_one_odd_byte(source: Path, target: Path, line_number: int) -> None:
    """A copy of `source` whose line `line_number` has its address end with a no-break space (U+00A0):
    a file with one byte of ingest.parse.fast.ODD_BYTES, typed with the spacing regex on every row."""
    with source.open("rb") as src, target.open("wb") as out:
        for number, line in enumerate(src):
            if number == line_number:
                cells = line.split(b",")
                cells[9] += "\u00a0".encode()
                line = b",".join(cells)
            out.write(line)


def task_duckdb(source: str, target: str) -> dict:
    import duckdb

    started = time.perf_counter()
    duckdb.sql(
        f"copy (select * from read_csv('{source}', skip = 1, header = true, all_varchar = true, "
        f"null_padding = true)) to '{target}' (format parquet, compression zstd)"
    )
    return {"seconds": time.perf_counter() - started}


def task_ours(source: str, target: str) -> dict:
    import duckdb  # noqa: F401  imported before the clock starts, as in task_duckdb

    from ingest.parse.files import parse_file
    from ingest.rules.layouts import load_layout

    started = time.perf_counter()
    out = Path(target)
    load = parse_file(
        Path(source),
        f"registry_100000_20231031{Path(source).suffix}",
        load_layout("registry"),
        dt.date(2023, 10, 31),
        out / "raw",
        out / "quarantine",
        "bench",
    )
    return {
        "seconds": time.perf_counter() - started,
        "rows_loaded": load.rows_loaded,
        "rows_quarantined": load.rows_quarantined,
    }


def run_task(name: str, source: str, target: str) -> None:
    report_task({"duckdb": task_duckdb, "ours": task_ours}[name](source, target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("data/bench"))
    parser.add_argument("--results", type=Path, default=Path("bench/RESULTS.md"))
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each measurement; the median is reported"
    )
    parser.add_argument("--task", choices=["duckdb", "ours"])
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()
    if args.task:
        run_task(args.task, *args.args)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    files = {name: args.out / f"registry_{name}.{ext}" for name, (_, _, ext) in FILES.items()}
    for name, path in files.items():
        if not path.exists() or path.stat().st_size < args.rows * 100:
            encoding, delimiter, _ = FILES[name]
            print(f"generating {args.rows:,} rows: {LABELS[name]} …", flush=True)
            generate(path, args.rows, encoding, delimiter)
    files["odd"] = args.out / "registry_utf-8_odd.csv"
    if not files["odd"].exists() or files["odd"].stat().st_mtime < files["utf-8"].stat().st_mtime:
        with_one_odd_byte(files["utf-8"], files["odd"], 2 + args.rows // 2)  # after title and header
    for path in files.values():  # in the page cache for every measurement, the first one included
        with path.open("rb") as fh:
            while fh.read(1 << 24):
                pass
    runs: dict[str, list[dict]] = {"floor": [], **{name: [] for name in files}}
    for _ in range(args.repeat):  # interleaved, so that a slow spell of the machine hits them all
        runs["floor"].append(
            measure(__file__, "duckdb", str(files["utf-8"]), str(args.out / "floor.parquet"))
        )
        for name, path in files.items():
            runs[name].append(measure(__file__, "ours", str(path), str(args.out / f"ours_{name}")))
    floor = _median(runs.pop("floor"))
    report(args, files, floor, {name: _median(r) for name, r in runs.items()})


def _median(runs: list[dict]) -> dict:
    """The run with the median seconds, with the largest peak memory of all runs."""
    middle = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {
        **middle,
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "all": [r["seconds"] for r in runs],
    }


def report(args, files, floor: dict, ours: dict) -> None:
    rows = args.rows
    lines = [
        "## Ingest: parse of a national-size registry export",
        "",
        f"Command: `python bench/ingest.py --rows {rows}` (`make bench-ingest`), run {dt.date.today()}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Input: {rows:,} rows; UTF-8 file {files['utf-8'].stat().st_size / 2**20:.0f} MiB, "
        f"GB18030 file {files['gb18030'].stat().st_size / 2**20:.0f} MiB, "
        f"UTF-16 file {files['utf-16'].stat().st_size / 2**20:.0f} MiB.",
        f"Seconds are the median of {args.repeat} interleaved runs (all runs in the last column); peak "
        "memory is the largest of them, the parse's own process and its decoding helper together.",
        "",
        "| measurement | seconds | rows/s | peak memory | ratio to floor | target | all runs (s) |",
        "|---|---:|---:|---:|---:|---|---|",
        f"| floor: DuckDB `read_csv` (UTF-8) → Parquet | {floor['seconds']:.1f} | "
        f"{rows / floor['seconds']:,.0f} | {floor['peak_rss_mib']:.0f} MiB | 1.0× | | {_runs(floor)} |",
    ]
    for name, r in ours.items():
        target = TARGETS[name]
        ratio = r["seconds"] / floor["seconds"]
        verdict = "met" if ratio <= target and r["peak_rss_mib"] < 2048 else "**not met**"
        lines.append(
            f"| ours ({LABELS[name]}) → typed Parquet + quarantine | {r['seconds']:.1f} | "
            f"{rows / r['seconds']:,.0f} | {r['peak_rss_mib']:.0f} MiB | {ratio:.1f}× | "
            f"≤ {target}×, < 2 GiB: {verdict} | {_runs(r)} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    write_section(args.results, "Ingest:", text)


def _runs(result: dict) -> str:
    return ", ".join(f"{s:.2f}" for s in result["all"])


if __name__ == "__main__":
    main()
