"""Spark and DuckDB build the same feature table from the same Ibis expressions.

Compared whole: every row (sorted by customer_id) and every column, windowed or not, to a
float tolerance. The figures land in ``tests/artifacts/spark_features.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.builders import feature_reasons
from features.io.spark import write_features
from features.io.warehouse import canonical_tables
from features.store import feature_snapshot

pytestmark = pytest.mark.spark

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
RTOL, ATOL = 1e-9, 1e-9


def compare_frames(got: pd.DataFrame, want: pd.DataFrame) -> dict[str, float]:
    """Max abs difference per column; fails on any row, null or value that differs."""
    assert list(got.columns) == list(want.columns)
    assert got.customer_id.tolist() == want.customer_id.tolist()
    diffs: dict[str, float] = {}
    for col in want.columns:
        a, b = got[col], want[col]
        if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            nulls = np.isnan(x) != np.isnan(y)
            assert not nulls.any(), f"{col}: null in one engine only for {nulls.sum()} rows"
            both = ~np.isnan(y)
            close = np.isclose(x[both], y[both], rtol=RTOL, atol=ATOL)
            assert close.all(), f"{col}: {int((~close).sum())} values differ"
            diffs[col] = float(np.max(np.abs(x[both] - y[both]), initial=0.0))
        else:
            same = a.astype(object).where(a.notna(), None).tolist() == (
                b.astype(object).where(b.notna(), None).tolist()
            )
            assert same, f"{col}: values differ"
            diffs[col] = 0.0
    return diffs


def test_features_are_identical_on_spark_and_duckdb(
    spark, spark_tables, world, dates, read_partition
):
    as_of, _ = dates
    path = str(world.root / "features")
    rows = write_features(spark, spark_tables, as_of, params=world.params, path=path)
    got = read_partition(Path(path), as_of)
    want = feature_snapshot(canonical_tables(world.duck), as_of, params=world.params)
    want = want.to_pyarrow().to_pandas().drop(columns="as_of")
    want = want.sort_values("customer_id").reset_index(drop=True)
    assert rows == len(want) == len(got) > 15_000
    diffs = compare_frames(got[list(want.columns)], want)
    # Every feature the builders make was compared, windowed ones included.
    features = set(feature_reasons(world.params))
    assert set(diffs) == features | {"customer_id"}
    windowed = [c for c in features if c.endswith(("_7d", "_30d", "_90d", "_365d"))]
    assert len(windowed) >= 30
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "spark_features.json").write_text(
        json.dumps(
            {
                "as_of": str(as_of),
                "customers": len(want),
                "columns": len(diffs) - 1,
                "windowed_columns": sorted(windowed),
                "max_abs_diff": max(diffs.values()),
                "max_abs_diff_by_column": diffs,
            },
            indent=2,
        )
    )


def test_writing_a_date_replaces_its_partition_only(
    spark, spark_tables, world, dates, read_partition, partition_files
):
    as_of, other = dates
    path = world.root / "features_partitions"
    # A date written earlier, and a stale copy of the date about to be rewritten.
    for day, name in ((as_of, "part-earlier.parquet"), (other, "part-stale.parquet")):
        part = path / f"as_of={day:%Y-%m-%d}"
        part.mkdir(parents=True)
        pd.DataFrame({"customer_id": ["stale"]}).to_parquet(part / name)
    before = partition_files(path, as_of)
    rows = write_features(spark, spark_tables, other, params=world.params, path=str(path))
    assert partition_files(path, as_of) == before
    assert "part-stale.parquet" not in partition_files(path, other)
    got = read_partition(path, other)
    assert rows == len(got) > 15_000 and "stale" not in set(got.customer_id)
