"""The exit codes of every `socorg` command, one table for all of them (`socorg --help` lists it)."""

from __future__ import annotations

# code → (name, what it means); argparse itself exits 2 on a usage error.
EXIT_CODES = {
    0: ("ok", "the nights were published, or were already and are unchanged; a check passed"),
    1: ("stopped", "a bad export, the quality gate, a failed dbt test or task or check, a broken site"),
    2: ("usage", "an unknown option, or a value the command cannot take"),
    3: ("locked", "another run holds the data folder (and --wait ran out)"),
    4: ("nothing_ran", "no exports for the date(s) asked for, or Airflow ran no task: nothing was published"),
    5: ("not_uploaded", "published locally, but not uploaded to object storage (run it again to finish)"),
}
OK, STOPPED, USAGE, LOCKED, NOTHING_RAN, NOT_UPLOADED = range(6)
