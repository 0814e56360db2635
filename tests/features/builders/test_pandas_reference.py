"""The Ibis builders on DuckDB agree with plain pandas (benchmarks/baselines/pandas_features.py).

Two samples: a seeded random shop of a few hundred customers, and random histories
around the cutoff from hypothesis (empty tables, nulls, ties and window boundaries).
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from benchmarks.baselines.pandas_features import build_features_pandas
from features.builders import build_features, categorical_features
from features.config import FeaturesParams
from features.contract.schema import TABLES

CUTOFF = dt.datetime(2024, 7, 1)


def assert_same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.index) == list(theirs.index)
    assert set(ours.columns) == set(theirs.columns)
    theirs = theirs[ours.columns]
    cats = categorical_features()
    pd.testing.assert_frame_equal(ours[cats], theirs[cats], check_dtype=False)
    nums = ours.columns.difference(cats)
    pd.testing.assert_frame_equal(
        ours[nums].astype(float), theirs[nums].astype(float), check_exact=False, rtol=1e-9
    )


def to_arrow(frames: dict[str, pd.DataFrame]) -> dict[str, pa.Table]:
    return {
        name: pa.Table.from_pandas(
            df, schema=TABLES[name].ibis_schema().to_pyarrow(), preserve_index=False
        )
        for name, df in frames.items()
    }


def test_duckdb_matches_pandas_on_a_random_shop(con, random_shop):
    frames = random_shop()
    tables = {name: ibis.memtable(t) for name, t in to_arrow(frames).items()}
    ours = con.execute(build_features(tables, CUTOFF, params=FeaturesParams()))
    ours = ours.set_index("customer_id").sort_index()
    theirs = build_features_pandas(frames, CUTOFF, params=FeaturesParams())
    assert len(ours) > 100
    assert ours.orders_365d.sum() > 100 and ours.abandoned_checkouts_90d.sum() > 10
    assert ours.cup_volume_drift_steps.notna().sum() > 10
    assert_same(ours, theirs)
    # the benchmark's pandas runs on categorical strings; ties stay on plain string ids
    cats = {
        name: df.astype(
            {
                c: "category"
                for c in df.columns
                if df[c].dtype == object and c not in ("order_id", "subscription_id")
            }
        )
        for name, df in frames.items()
    }
    assert_same(ours, build_features_pandas(cats, CUTOFF, params=FeaturesParams()))


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # Each example runs a large query, so failures are reported unshrunk.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(data=st.data())
def test_duckdb_matches_pandas_on_random_histories(
    data, compiled_features, history_strategy, property_params
):
    rows = data.draw(history_strategy)
    frames = {
        name: pa.Table.from_pylist(
            rows.get(name, []), schema=t.ibis_schema().to_pyarrow()
        ).to_pandas()
        for name, t in TABLES.items()
    }
    ours = compiled_features(rows)
    assert_same(ours, build_features_pandas(frames, CUTOFF, params=property_params))
