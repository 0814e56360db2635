"""Subscription: current plan, time on it, plan changes, days to renewal, active flag.

Point in time: uses subscriptions with ``start_ts < cutoff`` only, and an ``end_ts`` only
when it is before the cutoff. A subscription that ends at or after the cutoff was
active at the cutoff, as far as anyone could know then.

Definitions:

- the current subscription is the active one with the latest ``start_ts`` (ties broken by
  the larger ``subscription_id``); ``plan`` is its plan, ``"none"`` without one;
- ``plan_changes``: subscriptions whose plan differs from the customer's previous one,
  ordered by ``start_ts`` then ``subscription_id``;
- ``member_days``: days covered by subscriptions before the cutoff, summed over them;
- ``days_to_renewal``: days from the cutoff to the next ``start_ts + k * period_days``
  (k >= 1) of the current subscription (0 when it falls at the cutoff itself).

Every customer with ``signup_ts < cutoff`` gets a row: ``is_subscribed`` is 1.0 or 0.0,
counts and ``member_days`` are 0 without subscriptions, and ``plan_tenure_days``,
``days_to_renewal`` and ``plan_price`` are null without a current subscription (or
without its period/price); ``days_since_membership_end`` is null unless the customer was
a member and is not any more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import ibis

from features.builders._common import (
    DAY_S,
    KEY,
    as_cutoff,
    attach,
    epoch_s,
    f64,
    population,
    require,
    ts_epoch_s,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

DESCRIPTION = "Membership: current plan, time on it, plan changes, days to renewal and whether the customer is a member."
NO_PLAN = "none"
CATEGORICAL = ("plan",)


def reasons() -> dict[str, str]:
    """Feature name -> plain-language template (``{value}`` is the feature value)."""
    return {
        "plan": "on the {value} plan",
        "is_subscribed": "membership active: {value:.0f}",
        "plan_tenure_days": "{value:.0f} days on the current plan",
        "member_days": "member for {value:.0f} days in total",
        "subscriptions_lifetime": "{value:.0f} memberships in total",
        "plan_changes": "{value:.0f} plan changes",
        "days_to_renewal": "renews in {value:.0f} days",
        "plan_price": "plan price {value:,.2f}",
        "days_since_membership_end": "membership ended {value:.0f} days ago",
    }


def known_subscriptions(tables: Mapping[str, ir.Table], cutoff: dt.datetime) -> ir.Table:
    """Subscriptions started before the cutoff, with ``end_ts`` blanked unless before it."""
    (subs,) = require(tables, "subscriptions")
    started = subs.filter(subs.start_ts < cutoff)
    return started.mutate(
        end_ts=ibis.ifelse(started.end_ts < cutoff, started.end_ts, ibis.null("timestamp"))
    )


def build_subscription(tables: Mapping[str, ir.Table], cutoff: dt.datetime | dt.date) -> ir.Table:
    """Subscription features, one row per customer signed up before ``cutoff``.

    Uses subscription starts and ends before ``cutoff`` only.

    Parameters
    ----------
    tables
        Canonical tables; needs ``customers`` and ``subscriptions``.
    cutoff
        Naive UTC instant; a date means its midnight.
    """
    cutoff = as_cutoff(cutoff)
    pop = population(tables, cutoff)
    subs = known_subscriptions(tables, cutoff)
    c = ibis.literal(epoch_s(cutoff))
    start_s = ts_epoch_s(subs.start_ts)
    end_s = ts_epoch_s(subs.end_ts)
    active = subs.end_ts.isnull()
    prev_plan = subs.plan.lag().over(group_by=KEY, order_by=["start_ts", "subscription_id"])
    subs = subs.mutate(
        active=active,
        start_s=start_s,
        covered_days=(ibis.ifelse(active, c, end_s) - start_s) / DAY_S,
        changed=prev_plan.notnull() & (prev_plan != subs.plan),
    )
    history = subs.group_by(KEY).aggregate(
        subscriptions_lifetime=subs.count(),
        plan_changes=subs.count(where=subs.changed),
        member_days=subs.covered_days.sum(),
        last_end_s=ts_epoch_s(subs.end_ts).max(),
    )
    live = subs.filter(subs.active)
    live = live.mutate(
        rank=ibis.row_number().over(
            group_by=KEY, order_by=[ibis.desc("start_ts"), ibis.desc("subscription_id")]
        )
    )
    current = live.filter(live["rank"] == 0).select(
        KEY,
        plan=live.plan,
        plan_start_s=live.start_s,
        period=f64(live.period_days),
        plan_price=f64(live.price),
    )

    zeros = {"subscriptions_lifetime": 0, "plan_changes": 0, "member_days": 0}
    t = attach(pop, history, current, fill=zeros)
    elapsed = (c - t.plan_start_s) / DAY_S
    subscribed = t.plan.notnull()
    return t.select(
        KEY,
        plan=t.plan.fill_null(NO_PLAN),
        is_subscribed=ibis.ifelse(subscribed, 1.0, 0.0),
        plan_tenure_days=elapsed,
        member_days=f64(t.member_days),
        subscriptions_lifetime=f64(t.subscriptions_lifetime),
        plan_changes=f64(t.plan_changes),
        days_to_renewal=(t.period - elapsed % t.period) % t.period,
        plan_price=t.plan_price,
        days_since_membership_end=ibis.ifelse(
            subscribed, ibis.null("float64"), (c - t.last_end_s) / DAY_S
        ),
    )
