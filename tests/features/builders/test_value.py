"""Value and frequency features on literal orders, with hand-computed values."""

import datetime as dt
import math

import pytest

from features.builders.value import build_value, reasons

CUTOFF = dt.datetime(2024, 7, 1)
D = dt.datetime


def build(make_tables, run):
    tables = make_tables(
        customers=[
            {"customer_id": "a", "signup_ts": D(2024, 1, 1)},
            {"customer_id": "b", "signup_ts": D(2024, 6, 30, 12)},
            {"customer_id": "c", "signup_ts": CUTOFF},  # signs up at the cutoff: no row
            {"customer_id": "d", "signup_ts": D(2024, 3, 1)},
        ],
        orders=[
            {"order_id": "o1", "customer_id": "a", "ts": D(2024, 1, 10), "revenue": 100.0},
            {"order_id": "o2", "customer_id": "a", "ts": D(2024, 4, 1), "revenue": 50.0},
            {"order_id": "o3", "customer_id": "a", "ts": D(2024, 6, 21), "revenue": 30.0},
            {
                "order_id": "r1",
                "customer_id": "a",
                "ts": D(2024, 6, 25),
                "revenue": -20.0,
                "is_refund": True,
            },
            {"order_id": "o4", "customer_id": "a", "ts": CUTOFF, "revenue": 200.0},
            # two orders at the same instant, exactly 7 days before the cutoff
            {"order_id": "o6", "customer_id": "d", "ts": D(2024, 6, 24), "revenue": 10.0},
            {"order_id": "o5", "customer_id": "d", "ts": D(2024, 6, 24), "revenue": 10.0},
        ],
    )
    return run(build_value(tables, CUTOFF, windows_days=[7, 30, 90, 365], trend_days=90))


def test_value_features_of_a_repeat_buyer_with_a_refund(make_tables, run):
    a = build(make_tables, run).loc["a"].to_dict()
    assert a == pytest.approx(
        {
            "tenure_days": 182.0,
            "recency_days": 10.0,
            "days_since_first_order": 173.0,
            "orders_lifetime": 3.0,
            "spend_lifetime": 160.0,
            "refunds_lifetime": 20.0,
            "refund_share": 20 / 180,
            "aov": 60.0,
            "interpurchase_days_mean": 81.5,
            "interpurchase_days_std": math.sqrt(0.5),
            "orders_7d": 0.0,
            "spend_7d": -20.0,  # the refund falls in the window, its order does not
            "orders_30d": 1.0,
            "spend_30d": 10.0,
            "orders_90d": 1.0,  # 2024-04-01 is 91 days back
            "spend_90d": 10.0,
            "orders_365d": 3.0,
            "spend_365d": 160.0,
            "orders_trend_90d": -1.0,
            "spend_trend_90d": -140.0,
        }
    )


def test_customers_without_orders_get_zeros_and_nulls(make_tables, run):
    df = build(make_tables, run)
    assert list(df.index) == ["a", "b", "d"]
    b = df.loc["b"]
    assert b.tenure_days == 0.5
    for col in ("recency_days", "days_since_first_order", "aov", "refund_share"):
        assert math.isnan(b[col]), col
    assert b.orders_lifetime == 0 and b.spend_365d == 0 and b.orders_trend_90d == 0


def test_window_start_is_included_and_ties_give_a_zero_gap(make_tables, run):
    d = build(make_tables, run).loc["d"]
    assert d.orders_7d == 2 and d.recency_days == 7.0
    assert d.interpurchase_days_mean == 0.0
    assert math.isnan(d.interpurchase_days_std)  # one gap has no sample spread
    assert d.orders_trend_90d == 2 and d.spend_trend_90d == 20


def test_every_feature_has_a_reason(make_tables, run):
    df = build(make_tables, run)
    r = reasons(windows_days=[7, 30, 90, 365], trend_days=90)
    assert list(df.columns) == list(r)
    assert r["orders_30d"].format(value=2.0) == "2 orders in the last 30 days"
