"""Churn snapshots: both labels, survival censored where told, sampling, feature columns."""

import datetime as dt

import pandas as pd
import pytest

from features.config import Params
from features.errors import JourneyError
from training.churn_data import feature_columns, sample_per_cutoff, snapshot_frame

D = dt.datetime


def test_survival_labels_stop_at_observed_until_while_churn_looks_ahead(make_tables):
    tables = make_tables(
        customers=[
            {"customer_id": "a", "signup_ts": D(2024, 1, 1)},
            {"customer_id": "b", "signup_ts": D(2024, 1, 1)},
        ],
        orders=[
            {"order_id": "o1", "customer_id": "a", "ts": D(2024, 3, 10)},
            {"order_id": "o2", "customer_id": "b", "ts": D(2024, 6, 15)},
        ],
    )
    frame = snapshot_frame(
        tables, [D(2024, 3, 1)], params=Params(), observed_until=D(2024, 5, 1)
    ).set_index("customer_id")
    assert frame["churned"].to_dict() == {"a": 0, "b": 1}  # [03-01, 05-30)
    assert frame["event"].to_dict() == {"a": 1, "b": 0}  # b's order is after 05-01
    assert frame["duration_days"].to_dict() == {"a": 9.0, "b": 61.0}
    assert frame["cutoff"].unique().tolist() == [pd.Timestamp(2024, 3, 1)]


def test_sample_per_cutoff_caps_each_cutoff_and_keeps_order():
    frame = pd.DataFrame(
        {"cutoff": [1] * 5 + [2] * 2, "customer_id": list("abcdefg"), "x": range(7)}
    )
    got = sample_per_cutoff(frame, 3, seed=0)
    assert got.groupby("cutoff").size().to_dict() == {1: 3, 2: 2}
    assert got["x"].is_monotonic_increasing
    assert got.equals(sample_per_cutoff(frame, 3, seed=0))
    assert sample_per_cutoff(frame, None, seed=0) is frame


def test_feature_columns_drop_keys_labels_and_exclusions():
    frame = pd.DataFrame(
        columns=[
            "customer_id",
            "cutoff",
            "recency_days",
            "plan",
            "churned",
            "duration_days",
            "event",
        ]
    )
    assert feature_columns(frame) == ("recency_days", "plan")
    assert feature_columns(frame, ["plan"]) == ("recency_days",)
    with pytest.raises(JourneyError, match=r"unknown column\(s\) \['plna'\]"):
        feature_columns(frame, ["plna"])
