"""Point in time: what happens at or after the cutoff never changes a feature.

Properties over random histories (``conftest.histories``): appending orders, lines,
returns, sessions (new ones and continuations of old ones), subscriptions and customers
at or after the cutoff, or ending an open membership then, leaves every feature as it
was; and an order exactly at the cutoff counts in the labels, never in the features.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from features.labels import make_churn_labels, make_revenue_labels

CUTOFF = dt.datetime(2024, 7, 1)  # as in conftest
# derandomize: a fixed seed. Half the future timestamps fall exactly on the cutoff.
SETTINGS = dict(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # Each example runs a large query, so failures are reported unshrunk.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


@pytest.fixture(scope="module")
def churn(compile_expr):
    return compile_expr(
        lambda t: make_churn_labels(
            t, CUTOFF, definition="inactivity", horizon_days=30, lapse_grace_days=1
        )
    )


@pytest.fixture(scope="module")
def revenue(compile_expr):
    return compile_expr(lambda t: make_revenue_labels(t, CUTOFF, horizon_days=30))


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-9)


@settings(max_examples=40, **SETTINGS)
@given(data=st.data())
def test_appending_the_future_changes_no_feature(
    data, compiled_features, history_strategy, future_strategy
):
    base = data.draw(history_strategy, label="base")
    later = data.draw(future_strategy(base), label="with future rows")
    before = compiled_features(base)
    assert len(before) == sum(r["signup_ts"] < CUTOFF for r in base["customers"])
    same(before, compiled_features(later))


@settings(max_examples=15, **SETTINGS)
@given(data=st.data())
def test_an_order_at_the_cutoff_counts_in_labels_never_in_features(
    data, compiled_features, churn, revenue, history_strategy
):
    base = data.draw(history_strategy, label="base")
    members = sorted(r["customer_id"] for r in base["customers"] if r["signup_ts"] < CUTOFF)
    if not members:
        return
    who = data.draw(st.sampled_from(members), label="customer")
    at_cutoff = {
        **base,
        "orders": base["orders"]
        + [{"order_id": "at", "customer_id": who, "ts": CUTOFF, "revenue": 42.0}],
    }
    same(compiled_features(base), compiled_features(at_cutoff))
    assert churn(at_cutoff).loc[who, "churned"] == 0
    gained = revenue(at_cutoff).loc[who] - revenue(base).loc[who]
    assert gained.to_dict() == {"future_revenue": 42.0, "future_orders": 1}
