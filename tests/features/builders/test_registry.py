"""The registry joins every family into one table and explains every feature."""

import datetime as dt

import pytest

from features.builders import (
    FAMILIES,
    build_features,
    categorical_features,
    feature_families,
    feature_reasons,
)
from features.config import FeaturesParams, PathsParams
from features.errors import JourneyError

CUTOFF = dt.datetime(2024, 7, 1)
D = dt.datetime


@pytest.fixture
def tables(make_tables):
    return make_tables(
        customers=[
            {"customer_id": "b", "signup_ts": D(2024, 1, 1)},
            {"customer_id": "a", "signup_ts": D(2024, 1, 1), "channel": "email"},
            {"customer_id": "z", "signup_ts": D(2024, 8, 1)},
        ],
        orders=[{"order_id": "o1", "customer_id": "a", "ts": D(2024, 6, 1)}],
        events=[
            {"session_id": "s", "seq": 1, "customer_id": "a", "ts": D(2024, 6, 1), "page": "home"}
        ],
    )


def test_full_table_has_one_row_per_customer_and_every_family(tables, run):
    df = run(build_features(tables, CUTOFF, params=FeaturesParams()))
    assert list(df.index) == ["a", "b"]
    assert list(df.columns) == list(feature_reasons())
    assert sum(len(v) for v in feature_families().values()) == len(df.columns)
    numeric = df.drop(columns=categorical_features())
    assert (numeric.dtypes == "float64").all()
    assert df.loc["a", "orders_lifetime"] == 1 and df.loc["a", "sessions_30d"] == 1
    assert df.loc["b", "plan"] == "none"


def test_feature_names_follow_params(tables, run):
    params = FeaturesParams(windows_days=[14, 3], trend_days=28, paths=PathsParams(window_days=60))
    df = run(build_features(tables, CUTOFF, params=params, families=["value", "paths"]))
    assert "orders_3d" in df.columns and "orders_14d" in df.columns
    assert "spend_trend_28d" in df.columns and "pricing_views_60d" in df.columns
    assert "orders_30d" not in df.columns
    assert set(df.columns) <= set(feature_reasons(params))


def test_every_reason_template_formats(tables):
    categorical = set(categorical_features())
    for name, template in feature_reasons().items():
        text = template.format(value="Annual" if name in categorical else 3.0)
        assert text and "{" not in text, name


def test_unknown_family_is_named_with_the_valid_ones(tables):
    with pytest.raises(JourneyError, match="Did you mean 'value'"):
        build_features(tables, CUTOFF, params=FeaturesParams(), families=["valu"])


def test_families_are_the_documented_six():
    assert list(FAMILIES) == [
        "value",
        "engagement",
        "paths",
        "returns",
        "promo",
        "subscription",
        "purchases",
    ]
    assert all(f.description for f in FAMILIES.values())
