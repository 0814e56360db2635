"""Purchase-day summaries and gaps: literal rows with hand-worked values, the cutoff edge,
refunds and same-day orders, and a property: events at or after the cutoff change nothing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.purchase_days import build_purchase_days, build_purchase_gaps

CUTOFF = dt.datetime(2024, 3, 1)


@pytest.fixture
def tables(canonical):
    """``tables(orders)``: customers a, b, c and orders ``(customer, ts, revenue, refund)``;
    each call replaces the warehouse tables."""

    def make(orders: list[tuple], customers=("a", "b", "c")):
        rows = [
            {
                "order_id": f"o{i}",
                "customer_id": cust,
                "ts": ts,
                "revenue": revenue,
                "is_refund": refund,
            }
            for i, (cust, ts, revenue, refund) in enumerate(orders)
        ]
        signups = [{"customer_id": c, "signup_ts": "2023-12-01 00:00:00"} for c in customers]
        return {"customers": canonical("customers", signups), "orders": canonical("orders", rows)}

    return make


ORDERS = [
    ("a", "2024-01-01 09:00:00", 10.0, False),
    ("a", "2024-01-01 18:00:00", 5.0, False),  # same day: one purchase day worth 15
    ("a", "2024-01-11 12:00:00", 30.0, False),
    ("a", "2024-01-15 00:00:00", 8.0, True),  # a refund is no purchase
    ("a", "2024-02-10 06:00:00", 50.0, False),
    ("a", "2024-03-01 00:00:00", 99.0, False),  # at the cutoff: label time, not history
    ("b", "2024-02-29 12:00:00", 20.0, False),
]


def test_summary_on_literal_rows(tables):
    out = build_purchase_days(tables(ORDERS), CUTOFF).to_pandas().set_index("customer_id")
    a, b, c = out.loc["a"], out.loc["b"], out.loc["c"]
    assert a.repeat_purchase_days == 2
    # first purchase day starts 2024-01-01 09:00, the last 2024-02-10 06:00
    assert a.purchase_span_days == pytest.approx(39 + 21 / 24)
    assert a.days_since_first_purchase == pytest.approx(59 + 15 / 24)
    assert a.repeat_spend_mean == pytest.approx(40.0)
    assert a.first_purchase_spend == pytest.approx(15.0)
    assert (b.repeat_purchase_days, b.purchase_span_days) == (0, 0)
    assert b.days_since_first_purchase == pytest.approx(0.5)
    assert np.isnan(b.repeat_spend_mean)
    assert c.isna().all()  # signed up, never bought: null, not dropped


def test_gaps_on_literal_rows(tables):
    out = build_purchase_gaps(tables(ORDERS), CUTOFF).to_pandas()
    a = out[out.customer_id == "a"].reset_index(drop=True)
    assert list(a.repeat_purchase_days) == [0, 1, 2]
    np.testing.assert_allclose(a.gap_days, [10 + 3 / 24, 29 + 18 / 24, 19 + 18 / 24])
    assert list(a.next_purchase) == [True, True, False]
    np.testing.assert_allclose(a.age_at_purchase_days, [0, 10 + 3 / 24, 39 + 21 / 24])
    np.testing.assert_allclose(a.purchase_spend, [15, 30, 50])
    np.testing.assert_allclose(a.repeat_spend_mean, [np.nan, 30, 40])
    np.testing.assert_allclose(a.gap_mean_days, [np.nan, 10 + 3 / 24, (39 + 21 / 24) / 2])
    assert list(out.customer_id) == ["a", "a", "a", "b"]  # c never bought


def test_summary_is_the_last_gap_row(tables):
    t = tables(ORDERS)
    summary = build_purchase_days(t, CUTOFF).to_pandas().dropna(subset=["repeat_purchase_days"])
    gaps = build_purchase_gaps(t, CUTOFF).to_pandas()
    last = gaps[~gaps.next_purchase].set_index("customer_id")
    summary = summary.set_index("customer_id")
    np.testing.assert_allclose(last.repeat_purchase_days, summary.repeat_purchase_days)
    np.testing.assert_allclose(last.age_at_purchase_days, summary.purchase_span_days)
    np.testing.assert_allclose(
        last.age_at_purchase_days + last.gap_days, summary.days_since_first_purchase
    )


# The fixture replaces the tables on every call, so sharing it across examples is safe.
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    later=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.integers(min_value=0, max_value=90 * 24),
            st.floats(min_value=0, max_value=500, allow_nan=False),
            st.booleans(),
        ),
        max_size=6,
    )
)
def test_orders_at_or_after_the_cutoff_change_nothing(tables, later):
    before_s = build_purchase_days(tables(ORDERS), CUTOFF).to_pandas()
    before_g = build_purchase_gaps(tables(ORDERS), CUTOFF).to_pandas()
    extra = [(c, str(CUTOFF + dt.timedelta(hours=h)), v, r) for c, h, v, r in later]
    t = tables(ORDERS + extra)
    pd.testing.assert_frame_equal(build_purchase_days(t, CUTOFF).to_pandas(), before_s)
    pd.testing.assert_frame_equal(build_purchase_gaps(t, CUTOFF).to_pandas(), before_g)


def test_missing_orders_table_names_what_is_there(tables):
    t = tables(ORDERS)
    with pytest.raises(Exception, match="orders"):
        build_purchase_days({"customers": t["customers"]}, CUTOFF)
