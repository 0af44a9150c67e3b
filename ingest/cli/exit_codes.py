"""The exit codes of every `socorg` command, one table for all of them (the README lists it)."""

from __future__ import annotations

# code → (name, what it means); argparse itself exits 2 on a usage error.
EXIT_CODES = {
    0: ("ok", "done: the night was published, or was already published and unchanged; a check passed"),
    1: ("stopped", "stopped: a bad export, the quality gate, a failed dbt test or task, a broken site"),
    2: ("usage", "usage error: an unknown option or a value the command cannot take"),
    3: ("locked", "another run holds the data folder (and --wait ran out)"),
    4: ("nothing_ran", "nothing ran: no exports for the date(s) asked for, or Airflow ran no task"),
}
OK, STOPPED, USAGE, LOCKED, NOTHING_RAN = range(5)
