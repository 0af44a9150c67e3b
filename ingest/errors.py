"""Our own exceptions: each message says which file, which column and what was expected."""


class SocorgError(Exception):
    """Base of every error the pipeline raises on purpose."""


class ExportError(SocorgError):
    """An export file that cannot be loaded as a whole (unreadable, wrong header, bad footer)."""

    def __init__(self, file: str, problem: str):
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class ExportMissingError(SocorgError):
    """The night's required export is not where it should be."""


class GateError(SocorgError):
    """A batch failed its quality gate; nothing downstream may run."""


class StageSkipped(Exception):  # noqa: N818 (a signal, not an error)
    """A stage with nothing to do this run (for example PostgreSQL not configured): the task is skipped."""
