"""Returns and size features on literal lines and returns."""

import datetime as dt
import math

import pytest

from features.builders.returns import build_returns, reasons

CUTOFF = dt.datetime(2024, 7, 1)
D = dt.datetime


def line(line_id, order_id, size, band=None, cup=None, quantity=1):
    return {
        "line_id": line_id,
        "order_id": order_id,
        "size": size,
        "band": band,
        "cup": cup,
        "quantity": quantity,
    }


def ret(return_id, line_id, ts, reason, quantity=1):
    return {
        "return_id": return_id,
        "line_id": line_id,
        "ts": ts,
        "reason": reason,
        "quantity": quantity,
    }


def build(make_tables, run):
    tables = make_tables(
        customers=[
            {"customer_id": "a", "signup_ts": D(2024, 1, 1)},
            {"customer_id": "b", "signup_ts": D(2024, 1, 1)},
        ],
        orders=[
            {"order_id": "o1", "customer_id": "a", "ts": D(2024, 1, 10)},
            {"order_id": "o2", "customer_id": "a", "ts": D(2024, 6, 1)},
            {"order_id": "r3", "customer_id": "a", "ts": D(2024, 6, 5), "is_refund": True},
            {"order_id": "o4", "customer_id": "a", "ts": D(2024, 7, 2)},
        ],
        order_lines=[
            line("l1", "o1", "34C", 34, "C"),  # cup volume 3 + 3 = 6
            line("l2", "o1", "32D", 32, "D"),  # sister size: 2 + 4 = 6
            line("l3", "o1", "M", quantity=2),
            line("l4", "o2", "36C", 36, "C"),  # 4 + 3 = 7
            line("l5", "r3", "34C", 34, "C", quantity=-1),  # a refund line, not a purchase
            line("l6", "o4", "38C", 38, "C"),  # ordered after the cutoff
        ],
        returns=[
            ret("x1", "l1", D(2024, 1, 20), "too_small"),  # before the 90-day window
            ret("x2", "l4", D(2024, 6, 10), "too_large"),
            ret("x3", "l3", D(2024, 6, 15), "style"),  # one of two units
            ret("x4", "l2", CUTOFF, "too_small"),  # at the cutoff: the future
        ],
    )
    return run(build_returns(tables, CUTOFF, window_days=90))


def test_returns_and_size_features(make_tables, run):
    a = build(make_tables, run).loc["a"].to_dict()
    assert a == pytest.approx(
        {
            "units_bought": 5.0,
            "returns_lifetime": 3.0,
            "return_rate": 0.6,
            "fit_returns_lifetime": 2.0,
            "returns_90d": 2.0,
            "fit_returns_90d": 1.0,
            "too_small_returns_90d": 0.0,
            "too_large_returns_90d": 1.0,
            "distinct_sizes": 4.0,
            "distinct_bands": 3.0,
            "distinct_cups": 2.0,
            "distinct_bra_sizes": 3.0,
            # kept: l2 (volume 6); bought: 6, 6, 7
            "cup_volume_drift_steps": 6 - 19 / 3,
        }
    )


def test_customers_without_purchases(make_tables, run):
    b = build(make_tables, run).loc["b"]
    assert math.isnan(b.return_rate) and math.isnan(b.cup_volume_drift_steps)
    assert (b.drop(["return_rate", "cup_volume_drift_steps"]) == 0).all()


def test_every_feature_has_a_reason(make_tables, run):
    df = build(make_tables, run)
    r = reasons(window_days=90)
    assert list(df.columns) == list(r)
    assert r["fit_returns_90d"].format(value=3.0) == "3 fit returns in 90 days"
