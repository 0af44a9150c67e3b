"""Files read on a thread per core: results in order, and the error a loop would have raised."""

from __future__ import annotations

import os
import threading

import pytest

from ingest.common.files import in_threads


def test_work_on_threads_comes_back_in_the_items_order_from_more_than_one_thread():
    seen = set()

    def work(n: int) -> int:
        seen.add(threading.get_ident())
        threading.Event().wait(0.01)  # long enough for the second thread to take an item
        return n * n

    assert in_threads(work, range(20)) == [n * n for n in range(20)]
    assert len(seen) > 1 or (os.cpu_count() or 1) == 1  # one core: one thread is all there is


def test_the_first_failing_items_error_is_raised_and_not_parallel_runs_in_this_thread():
    def work(n: int) -> int:
        if n in (3, 7):
            raise ValueError(f"item {n}")
        return threading.get_ident()

    with pytest.raises(ValueError, match="item 3"):
        in_threads(work, range(10))
    assert set(in_threads(work, [0, 1, 2], parallel=False)) == {threading.get_ident()}
