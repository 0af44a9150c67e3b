"""Which nights a `socorg run` runs, what it says of them before they run, and its progress."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from ingest.common.dates import FIRST_EXPORT_DATE
from ingest.common.errors import SocorgError


def export_date_arg(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from None
    if day < FIRST_EXPORT_DATE:
        raise argparse.ArgumentTypeError(
            f"{day} is before {FIRST_EXPORT_DATE}, the first export date the nightly DAG runs"
        )
    return day


def export_dates_arg(value: str) -> list[dt.date]:
    """`--dates 2019-12-31,2020-12-31`: export dates, separated by commas (at least one)."""
    dates = [export_date_arg(part.strip()) for part in value.split(",") if part.strip()]
    if not dates:
        raise argparse.ArgumentTypeError(f"expected dates as YYYY-MM-DD,YYYY-MM-DD,…, got {value!r}")
    return dates


class NothingToRun(SocorgError):
    """The dates asked for hold no registry export: no night can run."""


def nights_asked(args, exports: str) -> list[dt.date]:
    """The export dates to run, oldest first: `--date` (with `--nights`, consecutive days), `--dates`,
    `--from`/`--to` (the dates the exports root holds in that range) or `--all` (every date it holds)."""
    if args.date:
        return [args.date + dt.timedelta(days=k) for k in range(args.nights)]
    from ingest.land.landing import export_dates, list_exports, source_folder
    from ingest.land.storage import open_root

    fs, root = open_root(exports)
    if args.dates:
        missing = [d for d in sorted(set(args.dates)) if not list_exports(fs, root, "registry", d)]
        if missing:
            raise NothingToRun(
                "no registry export for "
                + ", ".join(f"{d} (in {source_folder(exports, 'registry', d)})" for d in missing)
                + ": nothing was run"
            )
        return sorted(set(args.dates))
    held = export_dates(fs, root)
    early = [d for d in held if d < FIRST_EXPORT_DATE]
    if early:
        print(
            f"socorg run: {len(early)} folder(s) dated before {FIRST_EXPORT_DATE} ({early[0]} …) are not "
            "nights the DAG runs: left out",
            file=sys.stderr,
        )
    low, high = getattr(args, "from") or FIRST_EXPORT_DATE, args.to or dt.date.max
    chosen = [d for d in held if max(low, FIRST_EXPORT_DATE) <= d <= high]
    if not chosen:
        span = "" if args.all else f" from {getattr(args, 'from') or 'the first'} to {args.to or 'the last'}"
        raise NothingToRun(
            f"{exports} holds no registry export{span} (registry/YYYY-MM-DD/…): nothing was run"
        )
    return chosen


class Plan:
    """What the nights asked for come to before any runs: which are published and unchanged (nothing
    to do), and which releases published before will be built again after the first night that
    changes history. A night's state is asked once until a night is built (then it may have changed)."""

    def __init__(self, data: Path, exports: str, nights: list[dt.date], force: bool) -> None:
        self.data, self.exports, self.force = data, exports, force
        self._known: dict[dt.date, str | None] = {}
        self.built_any = False
        self.unchanged_at_start = sum(bool(self.unchanged(n)) for n in nights) if not force else 0

    def unchanged(self, night: dt.date) -> str | None:
        """Why the night needs no run (published, exports unchanged), or None."""
        from ingest.publish.fingerprint import current_release

        if self.force:
            return None
        if self.built_any or night not in self._known:
            self._known[night] = current_release(self.data, self.exports, night)
        return self._known[night]

    def say(self, nights: list[dt.date]) -> None:
        """How many nights, and the later releases a changed night will build again."""
        from ingest.common.releases import releases
        from ingest.publish.fingerprint import changes_history

        first, last = nights[0], nights[-1]
        if len(nights) > 1:
            print(
                f"socorg run: {len(nights)} nights from {first} to {last}, in date order, on {self.exports}"
                + (f"; {self.unchanged_at_start} published and unchanged" if self.unchanged_at_start else ""),
                flush=True,
            )
        changing = next(
            (n for n in nights if not self.unchanged(n) and changes_history(self.data, self.exports, n)), None
        )
        later = [d for d in releases(self.data / "publish") if changing and d > changing.isoformat()]
        if later:
            shown = ", ".join(later[:5]) + (f" and {len(later) - 5} more" if len(later) > 5 else "")
            print(
                f"socorg run: {len(later)} release(s) published before were built after {changing}: {shown}; "
                "each is built again once, in date order, after the nights before it (its history and "
                "figures by year compare with them)",
                flush=True,
            )


class Progress:
    """Night k of n on stderr, with the time taken and an estimate of the time left (from the nights
    built so far, for the nights left that will be built)."""

    def __init__(self, nights: list[dt.date], unchanged: int = 0) -> None:
        self.total, self.finished_nights, self.started = len(nights), 0, time.monotonic()
        self.to_skip, self.built, self.building_seconds = unchanged, 0, 0.0
        self._night_started = self.started

    def add(self, _night: dt.date) -> None:
        self.total += 1

    def starting(self, night: dt.date) -> None:
        self._night_started = time.monotonic()
        if self.total < 2:
            return
        elapsed = time.monotonic() - self.started
        left = ""
        if self.built:
            to_build = max(0, self.total - self.finished_nights - self.to_skip)
            left = f", about {_clock(self.building_seconds / self.built * to_build)} left"
        print(
            f"[night {self.finished_nights + 1} of {self.total}] {night} · {_clock(elapsed)} elapsed{left}",
            file=sys.stderr,
            flush=True,
        )

    def done(self, _night: dt.date, built: bool) -> None:
        self.finished_nights += 1
        if built:
            self.built += 1
            self.building_seconds += time.monotonic() - self._night_started
        else:
            self.to_skip = max(0, self.to_skip - 1)

    def finished(self) -> None:
        if self.total > 1:
            print(
                f"[{self.total} nights done in {_clock(time.monotonic() - self.started)}]",
                file=sys.stderr,
                flush=True,
            )


def _clock(seconds: float) -> str:
    """`1:05:09` or `4:07`.

    >>> _clock(3909), _clock(247)
    ('1:05:09', '4:07')
    """
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
