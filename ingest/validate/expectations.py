"""Custom GX expectations of the domain, reusable by any suite: GB 32100 credit codes, known divisions.

Importing this module registers them with Great Expectations.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from ingest.rules.creditcode import check_characters_match


def per_distinct_value(column: pd.Series, condition) -> pd.Series:
    """`condition` (a Series → bool Series function) per row; for a categorical, once per category."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        per_category = np.asarray(condition(pd.Series(column.cat.categories)), dtype=bool)
        codes = column.cat.codes.to_numpy()
        return pd.Series(np.where(codes >= 0, per_category[codes], False), index=column.index)
    return condition(column)


def _valid_codes(column: pd.Series) -> pd.Series:
    codes = pa.array(column.astype("string"), type=pa.string(), from_pandas=True)
    return pd.Series(check_characters_match(codes).to_numpy(zero_copy_only=False), index=column.index)


class ColumnValuesValidCreditCode(ColumnMapMetricProvider):
    """Per value: 18 characters of the GB 32100 alphabet with the right check character."""

    condition_metric_name = "column_values.valid_credit_code"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        return per_distinct_value(column, _valid_codes)


class ExpectColumnValuesToBeValidCreditCode(ColumnMapExpectation):
    """Expect each value to be a unified social credit code (GB 32100-2015) whose check character verifies.

    Nulls are not counted; use ExpectColumnValuesToNotBeNull for presence.
    """

    map_metric = "column_values.valid_credit_code"
    success_keys = ("mostly",)


def known_divisions() -> frozenset[str]:
    """Division codes of the reference list (NBS 2023) and the registrar-only codes (domain.md): the
    site's divisions.csv when it has its own."""
    from ingest.rules.site import seed_file

    seed = seed_file("divisions.csv")
    return _divisions(seed, seed.stat().st_mtime_ns)


@cache
def _divisions(seed: Path, mtime_ns: int) -> frozenset[str]:
    with seed.open(encoding="utf-8") as fh:
        return frozenset(row["division_code"] for row in csv.DictReader(fh))


class ColumnValuesKnownDivision(ColumnMapMetricProvider):
    """Per value: a division code of the reference list or a listed registrar code."""

    condition_metric_name = "column_values.known_division"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        return per_distinct_value(column, lambda values: values.astype("string").isin(known_divisions()))


class ExpectColumnValuesToBeKnownDivision(ColumnMapExpectation):
    """Expect each value to be a known administrative division code or a listed registrar code."""

    map_metric = "column_values.known_division"
    success_keys = ("mostly",)
