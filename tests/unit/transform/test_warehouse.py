"""A damaged warehouse is named by verify and set aside (it is derived from raw/ and built again)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import duckdb
import pytest

from ingest.transform.dbt import set_aside_damaged_warehouse, warehouse_problems

DATE = dt.date(2023, 10, 31)


def damaged(data, how: str):
    data.mkdir()
    path = data / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select range as x, 'organization ' || range as y from range(200000)")
        con.execute("checkpoint")
    content = bytearray(path.read_bytes())
    if how == "cut":
        content = content[:5000]
    else:  # bytes flipped in the file's header block, as a bad disk sector does
        for k in range(4096, 4160):
            content[k] ^= 0xFF
    path.write_bytes(bytes(content))
    return path


@pytest.mark.parametrize("how", ["cut", "flipped"])
def test_a_damaged_warehouse_is_named_and_set_aside(tmp_path, how):
    data = tmp_path / "data"
    path = damaged(data, how)
    [problem] = warehouse_problems(data)
    assert problem.startswith("warehouse.duckdb: DuckDB cannot open it (")
    assert "derived from raw/: the next run sets it aside and builds it again" in problem
    aside = set_aside_damaged_warehouse(data, DATE)
    assert aside is not None and aside.name.startswith("warehouse.duckdb.damaged-") and not path.exists()
    notes = json.loads((data / "runs" / DATE.isoformat() / "notes.json").read_text())
    assert [n["kind"] for n in notes] == ["warehouse_rebuilt"]
    assert warehouse_problems(data) == []


def test_a_warehouse_another_process_has_open_is_not_damaged(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    path = data / "warehouse.duckdb"
    duckdb.connect(str(path)).execute("create table t as select 1 as x").close()
    hold = f"import duckdb, time; c = duckdb.connect({str(path)!r}); print(1, flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE)
    try:
        holder.stdout.readline()
        assert warehouse_problems(data) == []
        with pytest.raises(duckdb.Error, match="lock"):
            set_aside_damaged_warehouse(data, DATE)
    finally:
        holder.kill()
        holder.wait()
    assert path.exists() and not list(data.glob("*.damaged-*"))
