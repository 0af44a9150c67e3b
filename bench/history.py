"""`make bench-history`: many nights in a row — does night N cost what night 1 did, and what does a night
keep on disk?

For each size, nights of exports that change a little from one night to the next, run by one
`socorg run --date D --nights N` (the DAG per night, in date order), then per night: the wall time of
each stage (the run's run.json), and the bytes it left in landing/, raw/ and publish/. Sizes:
  city      `socorg sample --city suzhou --nights N` (the generator's own changes between nights);
  province, national  one night of `socorg sample --scale …`, delivered again on each later date with
            about 0.2 % of the organizations changed (renamed, deregistered) and 0.1 % of the
            memberships leaving (back the night after) — the way exports change from night to night.
Writes a section of bench/RESULTS.md.

    python bench/history.py --size province --nights 30 --out data/bench/history
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.measure import run_measured, write_section  # noqa: E402
from bench.nightly import SIZES, exports_for, night_stages, socorg_run  # noqa: E402

BENCH = Path(__file__).resolve().parent
ENCODINGS = ("utf-8-sig", "gb18030")  # the province writer's encodings (utf-8 with or without a BOM)
TARGET_RATIO = 1.1  # the last night's transform / the first night's
SOURCES = ("registry", "membership", "qualifications")


def _decode(content: bytes) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return content.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ValueError("not utf-8 or gb18030")


def _changed_rows(text: str, k: int, source: str) -> str:
    """Night k's version of a CSV export, changed by a rule of (row, k) on the data rows (those with a
    credit-code column; the title, header and the registry's control-total footer stay): registry —
    0.1 % renamed, 0.1 % deregistered (the footer's total still holds); membership — 0.1 % missing
    tonight (left; back the night after)."""
    out = []
    for n, line in enumerate(text.split("\r\n")):
        cells = line.split(",")
        if n < 2 or len(cells) < 4:
            out.append(line)
            continue
        rule = (n * 7919 + k * 104729) % 1000
        if source == "membership" and rule == 1:
            continue
        if source == "registry" and rule == 0:
            cells[2] = cells[2] + "新"
        elif source == "registry" and rule == 2:
            cells = [("注销" if c in ("正常", "存续") else c) for c in cells]
        out.append(",".join(cells))
    return "\r\n".join(out)


def derive_nights(base: Path, out: Path, first: dt.date, nights: int) -> None:
    """Nights 2…N of a scale sample: night 1's exports, dated and changed night by night."""
    stamp = f"{first:%Y%m%d}"
    for k in range(1, nights):
        night = first + dt.timedelta(days=k)
        for source in SOURCES:
            folder = base / source / first.isoformat()
            if not folder.exists():
                continue
            target = out / source / night.isoformat()
            if target.exists():
                continue
            staging = target.with_name(target.name + ".partial")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            for path in folder.iterdir():
                name = path.name.replace(stamp, f"{night:%Y%m%d}")
                if source == "qualifications" or path.suffix != ".csv":
                    shutil.copyfile(path, staging / name)
                    continue
                text, encoding = _decode(path.read_bytes())
                (staging / name).write_bytes(_changed_rows(text, k, source).encode(encoding))
            staging.replace(target)


def exports_of(size: str, out: Path, first: dt.date, nights: int, seed: int) -> Path:
    if size == "city":
        exports = out / "city" / "exports"
        marker = out / "city" / "exports.json"
        spec = {"nights": nights, "date": first.isoformat(), "seed": seed}
        if not (marker.exists() and json.loads(marker.read_text()) == spec):
            shutil.rmtree(exports, ignore_errors=True)
            from ingest.sample.generate import write_nights

            write_nights(exports, first, nights, "suzhou", seed)
            marker.write_text(json.dumps(spec))
        return exports
    base, _ = exports_for(size, out / "base", first, seed)
    derive_nights(base, base, first, nights)
    return base


def _bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def night_bytes(data: Path, night: dt.date) -> dict:
    landing = sum(_bytes(data / "landing" / s / night.isoformat()) for s in SOURCES)
    raw = sum(
        _bytes(data / "raw" / s / f"export_date={night}")
        + _bytes(data / "raw" / s / "quarantine" / f"export_date={night}")
        for s in SOURCES
    )
    publish = sum(_bytes(p) for p in (data / "publish").glob(f"*/snapshot_date={night}"))
    publish += _bytes(data / "publish" / "releases" / night.isoformat())
    return {"landing": landing, "raw": raw, "publish": publish}


def bench(size: str, out: Path, first: dt.date, nights: int, seed: int) -> dict:
    exports = exports_of(size, out, first, nights, seed)
    data = out / size / "data"
    shutil.rmtree(data, ignore_errors=True)
    env = {
        **os.environ,
        "SOCORG_SETTLE_SECONDS": "0",
        "SOCORG_DATA": str(data),
        "SOCORG_EXPORTS": str(exports),
    }
    env.pop("SOCORG_KEEP_RAW_NIGHTS", None)
    command = socorg_run(first, nights)
    print(f"{size}: {' '.join(command[2:])} on {exports}", flush=True)
    result = run_measured(command, env)
    if result["returncode"]:
        raise SystemExit(
            f"{size}: socorg run failed:\n{result['stdout'][-3000:]}\n{result['stderr'][-3000:]}"
        )
    per_night = []
    for k in range(nights):
        night = first + dt.timedelta(days=k)
        stages, _ = night_stages(data, night)
        per_night.append({"night": night.isoformat(), "stages": stages, "bytes": night_bytes(data, night)})
    outcome = {
        "size": size,
        "nights": nights,
        "wall_seconds": result["wall_seconds"],
        "peak_rss_mib": result["peak_rss_mib"],
        "warehouse_bytes": _bytes(data / "warehouse.duckdb"),
        "per_night": per_night,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": dt.date.today().isoformat(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=BENCH.parent
        ).stdout.strip(),
    }
    (out / size / "result.json").write_text(json.dumps(outcome, indent=1), encoding="utf-8")
    return outcome


def refresh_sizes(out: Path) -> None:
    """Saved results measured again for the files still there (the warehouse's size)."""
    for path in out.glob("*/result.json"):
        result = json.loads(path.read_text())
        warehouse = path.parent / "data" / "warehouse.duckdb"
        if warehouse.exists():
            result["warehouse_bytes"] = _bytes(warehouse)
            path.write_text(json.dumps(result, indent=1), encoding="utf-8")


def _mean(result: dict, start: int, stop: int | None) -> float:
    nights = result["per_night"][start:stop]
    return sum(n["stages"].get("transform", 0) for n in nights) / max(1, len(nights))


def written_sizes(results_md: Path) -> dict[str, str]:
    """The section's `### <size>: …` blocks as RESULTS.md has them, by size: a size whose data folder
    is gone from --out keeps what was measured before, with its date and commit."""
    text = results_md.read_text(encoding="utf-8") if results_md.exists() else ""
    start = text.find("## History: many nights in a row")
    if start < 0:
        return {}
    end = text.find("\n## ", start + 1)
    section = text[start : end if end >= 0 else len(text)]
    blocks = section.split("\n### ")[1:]
    return {block.split(":", 1)[0]: "### " + block.rstrip() + "\n" for block in blocks}


def render(results: list[dict], earlier: dict[str, str] | None = None) -> str:
    lines = ["## History: many nights in a row (issue 22)", ""]
    measured = {r["size"] for r in results}
    kept = [{"size": size, "block": block} for size, block in (earlier or {}).items() if size not in measured]
    for r in sorted([*results, *kept], key=lambda r: list(SIZES).index(r["size"])):
        if "block" in r:
            lines.append(r["block"])
            continue
        first, last = r["per_night"][0], r["per_night"][-1]
        t1, tn = first["stages"].get("transform", 0), last["stages"].get("transform", 0)
        mib = 2**20
        avg = {
            k: sum(n["bytes"][k] for n in r["per_night"][1:] or r["per_night"])
            / max(1, len(r["per_night"][1:] or r["per_night"]))
            for k in ("landing", "raw", "publish")
        }
        lines += [
            f"### {r['size']}: {r['nights']} nights",
            "",
            f"Command: `python bench/history.py --size {r['size']} --nights {r['nights']}` "
            f"(`make bench-history`), {r['date']}, commit {r['commit']}, {r['machine']}. One "
            f"`socorg run --nights {r['nights']}` process: {r['wall_seconds'] / 60:.1f} min in all, peak "
            f"memory {r['peak_rss_mib'] / 1024:.2f} GiB.",
            "",
            f"**Transform of night {r['nights']} / night 1: {tn:.1f} s / {t1:.1f} s = {tn / t1:.2f}** "
            f"(target ≤ {TARGET_RATIO}: {'met' if tn / t1 <= TARGET_RATIO else 'NOT met'}). Less noisy, the "
            f"mean of the last five nights' transform over nights 2–6 (night 1 also parses the dbt project "
            f"and builds the state from nothing): {_mean(r, -5, None):.1f} s / {_mean(r, 1, 6):.1f} s = "
            f"{_mean(r, -5, None) / _mean(r, 1, 6):.2f}.",
            "",
            "| night | " + " | ".join(first["stages"]) + " | landing MiB | raw MiB | publish MiB |",
            "|---|" + "---:|" * (len(first["stages"]) + 3),
        ]
        for n in r["per_night"]:
            b = n["bytes"]
            cells = [f"{n['stages'].get(s, 0):.1f}" for s in first["stages"]]
            lines.append(
                f"| {n['night']} | "
                + " | ".join(cells)
                + f" | {b['landing'] / mib:.1f} | {b['raw'] / mib:.1f} | {b['publish'] / mib:.1f} |"
            )
        kept = avg["landing"] + avg["raw"]
        year_all = 365 * (kept + avg["publish"]) + r["warehouse_bytes"]
        year_pruned = 7 * kept + 365 * avg["publish"] + r["warehouse_bytes"]
        gib = 2**30
        lines += [
            "",
            f"Disk per night (mean of nights 2–{r['nights']}): landing {avg['landing'] / mib:.1f} MiB, raw "
            f"{avg['raw'] / mib:.1f} MiB, publish {avg['publish'] / mib:.1f} MiB; warehouse.duckdb "
            f"{r['warehouse_bytes'] / mib:.0f} MiB after {r['nights']} nights. A year, from these: "
            f"{year_all / gib:.1f} GiB keeping every night, {year_pruned / gib:.1f} GiB with "
            "`SOCORG_KEEP_RAW_NIGHTS=7` (releases kept; `SOCORG_KEEP_RELEASES` bounds those too).",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="province")
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("data/bench/history"))
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2023, 10, 31))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--report", action="store_true", help="only rewrite RESULTS.md from saved results")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    if not args.report:
        bench(args.size, args.out, args.date, args.nights, args.seed)
    refresh_sizes(args.out)
    results = [json.loads(p.read_text()) for p in sorted(args.out.glob("*/result.json"))]
    order = {s: k for k, s in enumerate(SIZES)}
    results.sort(key=lambda r: order[r["size"]])
    earlier = written_sizes(args.results)
    write_section(args.results, "History: many nights in a row", render(results, earlier))
    print(f"written: {args.results}")


if __name__ == "__main__":
    main()
