"""Export dates and the runs that process them: the schedule's time zone, the first night, D ↔ D+1 02:00."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SCHEDULE_TZ = ZoneInfo("Asia/Shanghai")
RUN_HOUR = dt.time(2)  # the run at 02:00 on D+1 processes the exports of D
# Any date is a night: a bureau's archive reaches back to its first registrations. The DAG starts
# the day after this export date, so Airflow runs every later one (before its start date it runs
# no task at all).
FIRST_EXPORT_DATE = dt.date(1950, 1, 1)


def export_date_for(run_time: dt.datetime) -> dt.date:
    """The run scheduled at 02:00 on D+1 (Asia/Shanghai) processes the exports of D.

    >>> export_date_for(dt.datetime(2023, 11, 1, 2, 0, tzinfo=SCHEDULE_TZ))
    datetime.date(2023, 10, 31)
    >>> export_date_for(dt.datetime(2010, 1, 1, 2, 0, tzinfo=SCHEDULE_TZ))
    datetime.date(2009, 12, 31)
    """
    # Via the timestamp: pendulum's DateTime (what Airflow hands over) mis-subtracts across zones.
    local = dt.datetime.fromtimestamp(run_time.timestamp(), SCHEDULE_TZ)
    return local.date() - dt.timedelta(days=1)


def run_time_for(export_date: dt.date) -> dt.datetime:
    """The scheduled run time that processes an export date (inverse of export_date_for)."""
    return dt.datetime.combine(export_date + dt.timedelta(days=1), RUN_HOUR, SCHEDULE_TZ)


def first_run_time() -> dt.datetime:
    """The DAG's start date: the run of FIRST_EXPORT_DATE."""
    return run_time_for(FIRST_EXPORT_DATE)
