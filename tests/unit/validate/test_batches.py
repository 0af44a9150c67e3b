"""The night's rows reach GX in chunks of the size asked for, however DuckDB batches its reads."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.common.paths import partition
from ingest.validate.batches import night_chunks

DATE = dt.date(2023, 10, 31)


@pytest.fixture
def funding_in_files(tmp_path):
    """Tonight's funding rows in three files of 5, 7 and 9 rows (DuckDB reads each as its own batch)."""
    folder = partition(tmp_path, "funding", DATE)
    folder.mkdir(parents=True)
    start = 0
    for n, size in enumerate((5, 7, 9)):
        rows = list(range(start, start + size))
        table = pa.table({"source_row": pa.array(rows, pa.int32()), "project": [f"p{r}" for r in rows]})
        pq.write_table(table, folder / f"part{n}.parquet")
        start += size
    return tmp_path


@pytest.mark.parametrize(("rows", "sizes"), [(8, [8, 8, 5]), (7, [7, 7, 7]), (100, [21]), (1, [1] * 21)])
def test_small_batches_are_gathered_into_chunks_of_the_rows_asked_for(funding_in_files, rows, sizes):
    chunks = list(night_chunks(funding_in_files, "funding", DATE, rows=rows))
    assert [len(c) for c in chunks] == sizes
    assert sorted(r for c in chunks for r in c["source_row"]) == list(range(21))  # each row once
    assert all(str(c["source_row"].dtype) == "int64" for c in chunks)  # as GX compares vectorized


def test_a_night_without_rows_is_one_empty_chunk_with_its_columns(tmp_path):
    folder = partition(tmp_path, "funding", DATE)
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"source_row": pa.array([], pa.int32())}), folder / "part.parquet")
    [chunk] = night_chunks(tmp_path, "funding", DATE)
    assert len(chunk) == 0 and "source_row" in chunk.columns
