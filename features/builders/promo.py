"""Promo and acquisition: promo share of orders, first order on a promo, channel, region.

Point in time: uses sales (orders that are not refunds) with ``ts < cutoff`` only. A
promo order has a non-empty ``promo_code``. The first order is the earliest sale, ties
broken by ``order_id``.

Every customer with ``signup_ts < cutoff`` gets a row: ``promo_orders_lifetime`` is 0
without orders, ``promo_order_share`` and ``first_order_promo`` (1.0 or 0.0) are null,
and a missing ``channel`` or ``region`` is ``"unknown"``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import ibis

from features.builders._common import (
    KEY,
    as_cutoff,
    attach,
    f64,
    population,
    require,
    safe_ratio,
    sales,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

DESCRIPTION = "How the customer came and buys: promo use, whether the first order was on a promo, acquisition channel and region."
UNKNOWN = "unknown"
CATEGORICAL = ("channel", "region")


def reasons() -> dict[str, str]:
    """Feature name -> plain-language template (``{value}`` is the feature value)."""
    return {
        "promo_orders_lifetime": "{value:.0f} orders on a promo",
        "promo_order_share": "{value:.0%} of orders on a promo",
        "first_order_promo": "first order on a promo",
        "channel": "came through {value}",
        "region": "lives in {value}",
    }


def build_promo(tables: Mapping[str, ir.Table], cutoff: dt.datetime | dt.date) -> ir.Table:
    """Promo and acquisition features, one row per customer signed up before ``cutoff``.

    Uses sales with ``ts < cutoff`` only, and the customer's own attributes.

    Parameters
    ----------
    tables
        Canonical tables; needs ``customers`` and ``orders``.
    cutoff
        Naive UTC instant; a date means its midnight.
    """
    cutoff = as_cutoff(cutoff)
    customers, orders = require(tables, "customers", "orders")
    pop = population(tables, cutoff)
    past = orders.filter((orders.ts < cutoff) & sales(orders))
    promo = past.promo_code.strip().length().fill_null(0) > 0
    past = past.mutate(promo=promo)
    per_customer = past.group_by(KEY).aggregate(
        orders=past.count(), promo_orders=past.count(where=past.promo)
    )
    first = past.mutate(rank=ibis.row_number().over(group_by=KEY, order_by=["ts", "order_id"]))
    first = first.filter(first["rank"] == 0).select(KEY, first_promo=first.promo)
    attrs = customers.select(KEY, "channel", "region")

    t = attach(pop, per_customer, first, attrs, fill={"orders": 0, "promo_orders": 0})
    return t.select(
        KEY,
        promo_orders_lifetime=f64(t.promo_orders),
        promo_order_share=safe_ratio(t.promo_orders, t.orders),
        first_order_promo=t.first_promo.cast("float64"),
        channel=t.channel.fill_null(UNKNOWN),
        region=t.region.fill_null(UNKNOWN),
    )
