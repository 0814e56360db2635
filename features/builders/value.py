"""Value and frequency: recency, order counts, spend, inter-purchase time, tenure, trend.

Point in time: uses orders with ``ts < cutoff`` only; a window of ``w`` days is
``[cutoff - w days, cutoff)``. Sales are orders that are not refunds. Refunds count by
their absolute amount whatever sign a source gives them, so ``spend_*`` is net of
refunds (and can be negative in a window that holds a refund but not its order).

Every customer with ``signup_ts < cutoff`` gets a row. Counts and sums are 0 without
orders; ``recency_days``, ``days_since_first_order``, ``aov`` and ``refund_share`` are
null without a sale, ``interpurchase_days_mean`` needs two sales and
``interpurchase_days_std`` (sample, ddof=1) three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis

from features.builders._common import (
    DAY_S,
    KEY,
    as_cutoff,
    attach,
    days_before,
    epoch_s,
    f64,
    population,
    require,
    safe_ratio,
    sales,
    ts_epoch_s,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

DESCRIPTION = (
    "Recency, frequency and spend over rolling windows, inter-purchase time, tenure and trend."
)


def reasons(*, windows_days: Sequence[int], trend_days: int) -> dict[str, str]:
    """Feature name -> plain-language template (``{value}`` is the feature value)."""
    out = {
        "tenure_days": "customer for {value:.0f} days",
        "recency_days": "last order {value:.0f} days ago",
        "days_since_first_order": "first order {value:.0f} days ago",
        "orders_lifetime": "{value:.0f} orders in total",
        "spend_lifetime": "{value:,.0f} spent in total, net of refunds",
        "refunds_lifetime": "{value:,.0f} refunded in total",
        "refund_share": "{value:.0%} of purchases refunded",
        "aov": "average order value {value:,.0f}",
        "interpurchase_days_mean": "orders every {value:.0f} days on average",
        "interpurchase_days_std": "irregular ordering (spread {value:.0f} days)",
    }
    for w in windows_days:
        out[f"orders_{w}d"] = f"{{value:.0f}} orders in the last {w} days"
        out[f"spend_{w}d"] = f"{{value:,.0f}} spent in the last {w} days"
    out[f"orders_trend_{trend_days}d"] = (
        f"{{value:+.0f}} orders in the last {trend_days} days vs the {trend_days} before"
    )
    out[f"spend_trend_{trend_days}d"] = (
        f"spend {{value:+,.0f}} in the last {trend_days} days vs the {trend_days} before"
    )
    return out


def _interpurchase(orders: ir.Table) -> ir.Table:
    """Mean and sample std of the gaps between consecutive sales, per customer."""
    w = ibis.window(group_by=KEY, order_by=["ts", "order_id"])
    s = ts_epoch_s(orders.ts)
    gaps = orders.mutate(gap_days=(s - s.lag().over(w)) / DAY_S)
    return gaps.group_by(KEY).aggregate(
        interpurchase_days_mean=gaps.gap_days.mean(),
        interpurchase_days_std=gaps.gap_days.std(how="sample"),
    )


def build_value(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime | dt.date,
    *,
    windows_days: Sequence[int],
    trend_days: int,
) -> ir.Table:
    """Value and frequency features, one row per customer signed up before ``cutoff``.

    Uses orders with ``ts < cutoff`` only; labels are the ones that look at
    ``[cutoff, cutoff + horizon)``.

    Parameters
    ----------
    tables
        Canonical tables; needs ``customers`` and ``orders``.
    cutoff
        Naive UTC instant; a date means its midnight.
    windows_days
        Rolling windows for ``orders_<w>d`` and ``spend_<w>d``.
    trend_days
        ``*_trend_<t>d`` is the last ``t`` days minus the ``t`` days before them.
    """
    cutoff = as_cutoff(cutoff)
    pop = population(tables, cutoff)
    (orders,) = require(tables, "orders")
    past = orders.filter(orders.ts < cutoff)
    sale = sales(past)
    amount = ibis.ifelse(sale, past.revenue, -past.revenue.abs())

    def since(days: int) -> ir.BooleanValue:
        return past.ts >= cutoff - dt.timedelta(days=days)

    prev = (past.ts >= cutoff - dt.timedelta(days=2 * trend_days)) & ~since(trend_days)
    aggs: dict[str, ir.Value] = {
        "orders_lifetime": past.order_id.count(where=sale),
        "gross_lifetime": past.revenue.sum(where=sale),
        "refunds_lifetime": past.revenue.abs().sum(where=~sale),
        "spend_lifetime": amount.sum(),
        "last_sale_s": ts_epoch_s(past.ts).max(where=sale),
        "first_sale_s": ts_epoch_s(past.ts).min(where=sale),
        "orders_recent": past.order_id.count(where=sale & since(trend_days)),
        "orders_prev": past.order_id.count(where=sale & prev),
        "spend_recent": amount.sum(where=since(trend_days)),
        "spend_prev": amount.sum(where=prev),
    }
    for w in windows_days:
        aggs[f"orders_{w}d"] = past.order_id.count(where=sale & since(w))
        aggs[f"spend_{w}d"] = amount.sum(where=since(w))
    per_customer = past.group_by(KEY).aggregate(**aggs)
    zeros = {name: 0 for name in aggs if not name.endswith("_s")}

    t = attach(pop, per_customer, _interpurchase(past.filter(sale)), fill=zeros)
    c = ibis.literal(epoch_s(cutoff))
    out = {
        "tenure_days": days_before(t.signup_ts, cutoff),
        "recency_days": (c - t.last_sale_s) / DAY_S,
        "days_since_first_order": (c - t.first_sale_s) / DAY_S,
        "orders_lifetime": f64(t.orders_lifetime),
        "spend_lifetime": f64(t.spend_lifetime),
        "refunds_lifetime": f64(t.refunds_lifetime),
        "refund_share": safe_ratio(t.refunds_lifetime, t.gross_lifetime),
        "aov": safe_ratio(t.gross_lifetime, t.orders_lifetime),
        "interpurchase_days_mean": f64(t.interpurchase_days_mean),
        "interpurchase_days_std": f64(t.interpurchase_days_std),
    }
    for w in windows_days:
        out[f"orders_{w}d"] = f64(t[f"orders_{w}d"])
        out[f"spend_{w}d"] = f64(t[f"spend_{w}d"])
    out[f"orders_trend_{trend_days}d"] = f64(t.orders_recent - t.orders_prev)
    out[f"spend_trend_{trend_days}d"] = f64(t.spend_recent - t.spend_prev)
    return t.select(KEY, **out)
