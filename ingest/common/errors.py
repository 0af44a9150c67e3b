"""Our own exceptions: each message says which file, which column and what was expected."""


class SocorgError(Exception):
    """Base of every error the pipeline raises on purpose."""


class ExportError(SocorgError):
    """An export file that cannot be loaded as a whole (unreadable, wrong header, bad footer)."""

    def __init__(self, file: str, problem: str):
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class ExportIncompleteError(ExportError):
    """An export still being written (changing, cut short, its completion marker not there yet)."""

    retryable = True


class ExportMissingError(SocorgError):
    """The night's required export is not where it should be (its message starts EXPORT_MISSING)."""


EXPORT_MISSING = "export missing:"


class SettingError(SocorgError, ValueError):
    """A setting (an environment variable or a DAG param) that cannot be read: no retry mends it."""


class GateError(SocorgError):
    """A batch failed its quality gate; nothing downstream may run."""


class StageSkipped(Exception):  # noqa: N818 (a signal, not an error)
    """A stage with nothing to do this run (for example PostgreSQL not configured): the task is skipped."""


class StateError(SocorgError):
    """A file the pipeline keeps (latest.json, an index, a run record, the warehouse) is damaged."""


class LockHeldError(SocorgError):
    """Another run holds the data folder; the message says which (pid, host, night, since when)."""

    retryable = True


class DiskFullError(SocorgError):
    """Not enough free space for the night, or a write failed for lack of it; the message has figures."""


class Declined(Exception):  # noqa: N818 (a signal, not an error)
    """The fast path cannot account for a file line by line in DuckDB: the Python path parses it."""
