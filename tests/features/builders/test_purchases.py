"""Purchase-summary features on literal orders, with hand-computed values."""

import datetime as dt

import pytest

from features.builders.purchases import COLUMNS, build_purchases, reasons

CUTOFF = dt.datetime(2024, 7, 1)
D = dt.datetime


def build(make_tables, run):
    tables = make_tables(
        customers=[
            {"customer_id": "a", "signup_ts": D(2024, 1, 1)},
            {"customer_id": "b", "signup_ts": D(2024, 6, 1)},  # never buys
            {"customer_id": "c", "signup_ts": CUTOFF},  # signs up at the cutoff: no row
            {"customer_id": "d", "signup_ts": D(2024, 3, 1)},
        ],
        orders=[
            {"order_id": "o1", "customer_id": "a", "ts": D(2024, 1, 10, 6), "revenue": 100.0},
            {"order_id": "o2", "customer_id": "a", "ts": D(2024, 1, 10, 18), "revenue": 20.0},
            {"order_id": "o3", "customer_id": "a", "ts": D(2024, 4, 1, 12), "revenue": 50.0},
            {"order_id": "o4", "customer_id": "a", "ts": D(2024, 6, 20, 6), "revenue": 30.0},
            {
                "order_id": "r1",
                "customer_id": "a",
                "ts": D(2024, 6, 25),
                "revenue": -40.0,
                "is_refund": True,  # refunds are not purchases
            },
            {"order_id": "o5", "customer_id": "a", "ts": CUTOFF, "revenue": 200.0},
            {"order_id": "o6", "customer_id": "d", "ts": D(2024, 6, 30), "revenue": 15.0},
        ],
    )
    return run(build_purchases(tables, CUTOFF))


def test_purchase_summary_of_a_repeat_buyer(make_tables, run):
    a = build(make_tables, run).loc["a"].to_dict()
    assert a == pytest.approx(
        {
            "repeat_purchase_days": 2.0,  # two orders on 2024-01-10 are one purchase day
            "purchase_span_days": 162.0,  # 2024-01-10 06:00 to 2024-06-20 06:00
            "days_since_first_purchase": 172.75,  # 2024-01-10 06:00 to the cutoff
            "repeat_spend_mean": 40.0,  # (50 + 30) / 2; the order at the cutoff is not seen
            "first_purchase_spend": 120.0,
        }
    )


def test_one_time_buyer_and_non_buyer(make_tables, run):
    df = build(make_tables, run)
    assert list(df.index) == ["a", "b", "d"]
    assert list(df.columns) == list(COLUMNS)
    d = df.loc["d"]
    assert (d.repeat_purchase_days, d.purchase_span_days, d.days_since_first_purchase) == (
        0.0,
        0.0,
        1.0,
    )
    assert d.first_purchase_spend == 15.0 and d.isna().repeat_spend_mean
    assert df.loc["b"].isna().all()


def test_every_feature_has_a_reason():
    assert set(reasons()) == set(COLUMNS)
