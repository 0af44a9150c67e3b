"""`socorg sample`: sample exports for a city, or at province or national scale."""

from __future__ import annotations

import json
import sys

from ingest.cli import exit_codes


def sample_command(args) -> int:
    from ingest.sample.generate import write_dates, write_nights

    if args.nights < 1:
        print(f"socorg sample: --nights must be at least 1, got {args.nights}", file=sys.stderr)
        return exit_codes.USAGE
    if args.dates and (args.nights != 1 or args.scale != "city"):
        print(
            "socorg sample: --dates writes an archive of city samples; drop --nights and --scale",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    if args.scale != "city":
        return _sample_at_scale(args)
    if args.dates:
        truths = write_dates(args.out, args.dates, args.city, args.seed, archive=True)
    else:
        truths = write_nights(args.out, args.date, args.nights, args.city, args.seed)
    truth = truths[-1]
    if len(truths) > 1:
        changes = json.loads((args.out / "_truth" / "changes.json").read_text(encoding="utf-8"))
        print(
            f"{len(truths)} nights {truths[0]['export_date']} … {truth['export_date']}; {len(changes)} "
            f"registry changes, listed in {args.out}/_truth/changes.json"
        )
    for city, figures in truth["cities"].items():
        summary = figures["city_summary"]
        print(
            f"{city}: {summary['active_org_count']} active organizations, "
            f"{summary['cluster_member_enterprise_count']} cluster member enterprises"
        )
    print(
        f"{len(truth['quarantine'])} bad rows planted; truth in {args.out}/_truth/{truth['export_date']}.json"
    )
    return exit_codes.OK


def _sample_at_scale(args) -> int:
    """One night of province- or national-size exports, streamed with a progress bar."""
    from ingest.sample.scale import write_scale

    if args.city != "all" or args.nights != 1:
        message = f"--scale {args.scale} writes one night of many cities; drop --city and --nights"
        print(f"socorg sample: {message}", file=sys.stderr)
        return exit_codes.USAGE
    truth = write_scale(args.out, args.date, args.scale, args.seed, progress=sys.stderr.isatty())
    rows = truth["rows"]
    print(
        f"{args.scale}: {len(truth['cities'])} cities, {rows['registry']:,} organizations, "
        f"{rows['membership']:,} memberships, {rows['qualifications']:,} qualification rows; "
        f"truth in {args.out}/_truth/{truth['export_date']}.json"
    )
    return exit_codes.OK
