"""SQL text from values: every literal and every path that enters a DuckDB or PostgreSQL statement."""

from __future__ import annotations

import os


def sql_literal(text: str) -> str:
    """A SQL string literal: single quotes doubled, so any text — a path with ' in it — stays one value.

    >>> sql_literal("O'Brien 苏州")
    "'O''Brien 苏州'"
    """
    return "'" + str(text).replace("'", "''") + "'"


def sql_path(path: str | os.PathLike) -> str:
    """A file path as a SQL string literal (DuckDB's read_*, copy … to, attach).

    >>> sql_path("/data/it's 数据/a.parquet")
    "'/data/it''s 数据/a.parquet'"
    """
    return sql_literal(os.fspath(path))
