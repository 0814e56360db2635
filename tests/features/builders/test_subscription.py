"""Subscription features on literal memberships."""

import datetime as dt
import math

import pytest

from features.builders.subscription import build_subscription, reasons

CUTOFF = dt.datetime(2024, 7, 1)
D = dt.datetime
NAN = float("nan")


def sub(sid, customer, plan, start, end=None, price=None, period=None):
    return {
        "subscription_id": sid,
        "customer_id": customer,
        "plan": plan,
        "start_ts": start,
        "end_ts": end,
        "price": price,
        "period_days": period,
    }


def build(make_tables, run):
    tables = make_tables(
        customers=[{"customer_id": c, "signup_ts": D(2023, 1, 1)} for c in "abcde"],
        subscriptions=[
            sub("x1", "a", "Monthly", D(2024, 1, 1), D(2024, 3, 1), 10.0, 30),
            sub("x2", "a", "Annual", D(2024, 3, 1), None, 100.0, 365),
            # ends after the cutoff: active as far as the cutoff knows
            sub("x3", "b", "Monthly", D(2024, 5, 1), D(2024, 7, 15), 10.0, 30),
            sub("x4", "c", "Monthly", D(2024, 1, 1), D(2024, 2, 1)),
            sub("x5", "c", "Monthly", D(2024, 2, 1), D(2024, 4, 1)),
            sub("x6", "d", "Monthly", CUTOFF),  # starts at the cutoff: the future
            sub("x7", "e", "Basic", D(2024, 6, 1)),
            sub("x8", "e", "Premium", D(2024, 6, 1)),  # same start: larger id wins
        ],
    )
    return run(build_subscription(tables, CUTOFF))


def test_current_plan_changes_renewal_and_membership_days(make_tables, run):
    df = build(make_tables, run)
    assert df.loc["a"].to_dict() == pytest.approx(
        {
            "plan": "Annual",
            "is_subscribed": 1.0,
            "plan_tenure_days": 122.0,
            "member_days": 60.0 + 122.0,
            "subscriptions_lifetime": 2.0,
            "plan_changes": 1.0,
            "days_to_renewal": 365.0 - 122.0,
            "plan_price": 100.0,
            "days_since_membership_end": NAN,
        },
        nan_ok=True,
    )
    b = df.loc["b"]
    assert (b.plan, b.plan_tenure_days, b.days_to_renewal, b.member_days) == ("Monthly", 61, 29, 61)


def test_former_members_and_non_members(make_tables, run):
    df = build(make_tables, run)
    c = df.loc["c"]
    assert (c.plan, c.is_subscribed, c.member_days) == ("none", 0.0, 91.0)
    assert (c.subscriptions_lifetime, c.plan_changes, c.days_since_membership_end) == (2, 0, 91)
    assert math.isnan(c.plan_tenure_days) and math.isnan(c.days_to_renewal)
    d = df.loc["d"]
    assert (d.plan, d.is_subscribed, d.subscriptions_lifetime, d.member_days) == ("none", 0, 0, 0)
    assert math.isnan(d.days_since_membership_end) and math.isnan(d.plan_price)


def test_ties_between_current_plans_break_on_the_larger_id(make_tables, run):
    e = build(make_tables, run).loc["e"]
    assert (e.plan, e.plan_changes) == ("Premium", 1)


def test_every_feature_has_a_reason(make_tables, run):
    assert list(build(make_tables, run).columns) == list(reasons())
