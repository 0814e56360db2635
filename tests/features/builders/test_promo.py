"""Promo and acquisition features on literal orders."""

import datetime as dt
import math

from features.builders.promo import build_promo, reasons

CUTOFF = dt.datetime(2024, 7, 1)
D = dt.datetime


def build(make_tables, run):
    tables = make_tables(
        customers=[
            {"customer_id": "a", "signup_ts": D(2024, 1, 1), "channel": "email"},
            {"customer_id": "b", "signup_ts": D(2024, 1, 1), "region": "UK"},
            {"customer_id": "d", "signup_ts": D(2024, 1, 1)},
        ],
        orders=[
            {"order_id": "o1", "customer_id": "a", "ts": D(2024, 1, 10), "promo_code": "SUMMER"},
            {"order_id": "o2", "customer_id": "a", "ts": D(2024, 2, 1), "promo_code": "  "},
            {"order_id": "o3", "customer_id": "a", "ts": D(2024, 3, 1)},
            {
                "order_id": "o0",
                "customer_id": "a",
                "ts": D(2024, 3, 2),
                "promo_code": "X",
                "is_refund": True,
            },
            {"order_id": "o9", "customer_id": "a", "ts": CUTOFF, "promo_code": "LATE"},
            # same instant: the first order is the smaller order_id, o-a (no promo)
            {"order_id": "o-b", "customer_id": "d", "ts": D(2024, 5, 1), "promo_code": "P"},
            {"order_id": "o-a", "customer_id": "d", "ts": D(2024, 5, 1)},
        ],
    )
    return run(build_promo(tables, CUTOFF))


def test_promo_share_first_order_channel_and_region(make_tables, run):
    df = build(make_tables, run)
    assert df.loc["a"].to_dict() == {
        "promo_orders_lifetime": 1.0,
        "promo_order_share": 1 / 3,
        "first_order_promo": 1.0,
        "channel": "email",
        "region": "unknown",
    }
    assert df.loc["d", "first_order_promo"] == 0.0
    assert df.loc["d", "promo_order_share"] == 0.5


def test_customers_without_orders(make_tables, run):
    b = build(make_tables, run).loc["b"]
    assert b.promo_orders_lifetime == 0
    assert math.isnan(b.promo_order_share) and math.isnan(b.first_order_promo)
    assert (b.channel, b.region) == ("unknown", "UK")


def test_every_feature_has_a_reason(make_tables, run):
    assert list(build(make_tables, run).columns) == list(reasons())
