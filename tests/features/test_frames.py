"""Training frames stack snapshots keyed by (customer_id, cutoff) with model-ready dtypes."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features.config import Params
from features.errors import JourneyError
from features.frames import build_training_frame
from features.labels import LabelWindowError

D = dt.datetime


@pytest.fixture
def tables(make_tables):
    return make_tables(
        customers=[
            {"customer_id": "a", "signup_ts": D(2024, 1, 1), "channel": "email"},
            {"customer_id": "b", "signup_ts": D(2024, 3, 15)},
        ],
        orders=[
            {"order_id": "o1", "customer_id": "a", "ts": D(2024, 2, 1)},
            {"order_id": "o2", "customer_id": "a", "ts": D(2024, 4, 10)},
            {"order_id": "o3", "customer_id": "b", "ts": D(2024, 8, 1)},
        ],
        subscriptions=[
            {
                "subscription_id": "s1",
                "customer_id": "a",
                "start_ts": D(2024, 1, 5),
                "end_ts": D(2024, 5, 1),
            }
        ],
        events=[
            {"session_id": "z", "seq": 1, "customer_id": "b", "ts": D(2024, 12, 30)},
        ],
    )


def params(**labels):
    return Params.model_validate({"labels": {"horizon_days": 60, **labels}})


def test_frame_stacks_cutoffs_with_labels_and_clean_dtypes(tables):
    df = build_training_frame(tables, [D(2024, 4, 1), dt.date(2024, 3, 1)], params=params())
    assert list(zip(df.customer_id, df.cutoff.dt.strftime("%m-%d"), strict=True)) == [
        ("a", "03-01"),
        ("a", "04-01"),
        ("b", "04-01"),
    ]
    assert df.churned.tolist() == [0, 0, 1]
    assert df.churned.dtype == np.int64
    assert df.cutoff.dtype == "datetime64[ns]"
    assert isinstance(df.plan.dtype, pd.CategoricalDtype)
    assert list(df.plan.cat.categories) == ["Monthly", "none"]
    numeric = df.drop(columns=["customer_id", "cutoff", "churned", "channel", "region", "plan"])
    assert (numeric.dtypes == np.float64).all()
    assert not any(isinstance(t, pd.api.extensions.ExtensionDtype) for t in numeric.dtypes)
    assert df.loc[1, "orders_lifetime"] == 1.0  # o2 on 04-10 is after the 04-01 cutoff


def test_survival_and_revenue_frames(tables):
    surv = build_training_frame(
        tables, [D(2024, 4, 1)], params=params(survival_max_days=200), label="time_to_churn"
    )
    assert surv[["duration_days", "event"]].to_dict("records") == [
        {"duration_days": 9.0, "event": 1},
        {"duration_days": 122.0, "event": 1},
    ]
    rev = build_training_frame(tables, [D(2024, 4, 1)], params=params(), label="revenue")
    assert rev.future_revenue.tolist() == [10.0, 0.0]


def test_cancellation_frame_holds_members_only(tables):
    df = build_training_frame(tables, [D(2024, 4, 1)], params=params(churn="cancellation"))
    assert df[["customer_id", "churned"]].to_dict("records") == [{"customer_id": "a", "churned": 1}]


def test_label_windows_must_end_within_the_data(tables):
    with pytest.raises(LabelWindowError):
        build_training_frame(tables, [D(2024, 12, 1)], params=params())
    with pytest.raises(JourneyError, match="unknown label 'clv'"):
        build_training_frame(tables, [D(2024, 4, 1)], params=params(), label="clv")
