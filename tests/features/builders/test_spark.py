"""The same builders and labels run unchanged on Spark (Ibis PySpark) and agree with DuckDB."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from features.builders import build_features, categorical_features
from features.config import FeaturesParams
from features.contract.schema import TABLES
from features.labels import make_churn_labels, make_revenue_labels, make_time_to_churn_labels

pytestmark = pytest.mark.spark
CUTOFF = dt.datetime(2024, 7, 1)


@pytest.fixture(scope="module")
def shop(random_shop):
    frames = random_shop(seed=11, customers=60)
    return {
        name: pa.Table.from_pandas(
            df, schema=TABLES[name].ibis_schema().to_pyarrow(), preserve_index=False
        )
        for name, df in frames.items()
    }


def run_both(con, spark_con, expr) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = []
    for backend in (con, spark_con):
        df = backend.execute(expr)
        out.append(df.sort_values("customer_id").set_index("customer_id"))
    return out[0], out[1]


def assert_close(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert list(duck.index) == list(spark.index)
    assert list(duck.columns) == list(spark.columns)
    cats = [c for c in categorical_features() if c in duck.columns]
    pd.testing.assert_frame_equal(duck[cats], spark[cats], check_dtype=False)
    nums = duck.columns.difference(cats)
    pd.testing.assert_frame_equal(
        duck[nums].astype(float), spark[nums].astype(float), check_exact=False, rtol=1e-9
    )


def test_features_on_spark_equal_duckdb(con, spark_con, shop):
    tables = {name: ibis.memtable(t) for name, t in shop.items()}
    duck, spark = run_both(con, spark_con, build_features(tables, CUTOFF, params=FeaturesParams()))
    assert len(duck) > 20 and duck.orders_365d.sum() > 20
    assert_close(duck, spark)


@pytest.mark.parametrize("definition", ["inactivity", "cancellation"])
def test_labels_on_spark_equal_duckdb(con, spark_con, shop, definition):
    tables = {name: ibis.memtable(t) for name, t in shop.items()}
    until = dt.datetime(2025, 1, 1)
    for expr in (
        make_churn_labels(
            tables, CUTOFF, definition=definition, horizon_days=90, lapse_grace_days=1
        ),
        make_time_to_churn_labels(
            tables,
            CUTOFF,
            definition=definition,
            max_days=120,
            lapse_grace_days=1,
            observed_until=until,
        ),
        make_revenue_labels(tables, CUTOFF, horizon_days=90),
    ):
        assert_close(*run_both(con, spark_con, expr))
