"""A fast path for CSV exports: DuckDB types every cell it can type exactly as ingest.parse.rows does.

The file is read once by DuckDB's CSV reader. A row whose cells all have plain, unambiguous
spellings is typed in SQL; any other row (full-width or traditional characters, unusual whitespace,
rare date forms, impossible dates, …) is declined to `ingest.parse.rows.type_record`, so both paths give
the same rows, reasons and row numbers (tests compare them on every sample and bad-input file). A
file whose shape DuckDB cannot account for line by line (rows cut short or too long, blank lines,
values spanning lines, bytes that are not UTF-8) is declined whole and parsed by the Python path.
"""

from ingest.common.errors import Declined
from ingest.parse.fast.run import FastResult, eligible, parse_csv, parse_csvs, shape
from ingest.parse.fast.write import FastFile

__all__ = ["Declined", "FastFile", "FastResult", "eligible", "parse_csv", "parse_csvs", "shape"]
