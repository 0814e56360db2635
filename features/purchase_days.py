"""Purchase days: the inputs of the probabilistic CLV models (BG/NBD, Gamma-Gamma, gaps).

Point in time: uses sales (orders that are not refunds) with ``ts < cutoff`` only. A
*purchase day* is a calendar day (UTC) with at least one sale; its time is its first
sale's timestamp and its spend the sum of that day's sales. Repeat purchases are counted
as purchase days after the first, as in the published CDNOW analyses (several orders on
one day are one purchase). Durations are in days, from whole epoch seconds.

- :func:`build_purchase_days`: one row per customer signed up before the cutoff, the
  summary BG/NBD and Gamma-Gamma read (lifetimes' ``summary_data_from_transaction_data``
  with the cutoff as an explicit argument);
- :func:`build_purchase_gaps`: one row per purchase day, with the gap to the next one
  (or to the cutoff, censored), for time-to-next-purchase models.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import ibis

from features.errors import JourneyError, unknown_name_message

if TYPE_CHECKING:
    import ibis.expr.types as ir

KEY = "customer_id"
DAY_S = 86_400.0

SUMMARY_COLUMNS = (
    "repeat_purchase_days",
    "purchase_span_days",
    "days_since_first_purchase",
    "repeat_spend_mean",
    "first_purchase_spend",
)
GAP_COLUMNS = (
    "purchase_day",
    "repeat_purchase_days",
    "age_at_purchase_days",
    "purchase_spend",
    "repeat_spend_mean",
    "gap_mean_days",
    "gap_days",
    "next_purchase",
)


def _cutoff(cutoff: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(cutoff, dt.datetime):
        if cutoff.tzinfo is not None:
            cutoff = cutoff.astimezone(dt.UTC).replace(tzinfo=None)
        return cutoff
    if isinstance(cutoff, dt.date):
        return dt.datetime(cutoff.year, cutoff.month, cutoff.day)
    raise JourneyError(f"cutoff must be a date or datetime, got {type(cutoff).__name__}")


def _table(tables: Mapping[str, ir.Table], name: str) -> ir.Table:
    if name not in tables:
        raise JourneyError(unknown_name_message("input table", name, tables))
    return tables[name]


def _epoch_s(ts: ir.TimestampValue) -> ir.FloatingValue:
    # cast again: Spark's floor returns a decimal, which would round later divisions
    return ts.epoch_seconds().cast("float64").floor().cast("float64")


def _days(cutoff: dt.datetime) -> ir.FloatingValue:
    """The cutoff in whole epoch seconds, as an Ibis literal."""
    whole = (cutoff - dt.datetime(1970, 1, 1)).total_seconds() // 1
    return ibis.literal(float(whole))


def _purchase_days(tables: Mapping[str, ir.Table], cutoff: dt.datetime) -> ir.Table:
    """One row per (customer, purchase day) before the cutoff, numbered from 0 per customer."""
    orders = _table(tables, "orders")
    sales = orders.filter((orders.ts < cutoff) & ~orders.is_refund.fill_null(False))
    days = sales.group_by([KEY, sales.ts.date().name("purchase_day")]).aggregate(
        day_s=_epoch_s(sales.ts).min(), spend=sales.revenue.sum()
    )
    w = ibis.window(group_by=KEY, order_by="purchase_day")
    upto = ibis.cumulative_window(group_by=KEY, order_by="purchase_day")
    whole = ibis.window(group_by=KEY)
    return days.mutate(
        k=ibis.row_number().over(w),  # 0-based: repeat purchase days so far
        first_s=days.day_s.min().over(whole),
        first_spend=days.spend.first().over(w),
        cum_spend=days.spend.sum().over(upto),
        next_s=days.day_s.lead().over(w),
    )


def build_purchase_gaps(tables: Mapping[str, ir.Table], cutoff: dt.datetime | dt.date) -> ir.Table:
    """One row per customer purchase day before ``cutoff``: the state after it and the gap.

    Columns: ``customer_id``, ``purchase_day`` (date), ``repeat_purchase_days`` (purchase
    days before this one), ``age_at_purchase_days`` (days since the first purchase day),
    ``purchase_spend`` (that day), ``repeat_spend_mean`` (mean spend of the repeat days up
    to this one; null on the first), ``gap_mean_days`` (mean gap so far; null on the
    first), ``gap_days`` (to the next purchase day, or to the cutoff when there is none
    before it) and ``next_purchase`` (whether there is). Each customer's last row is their
    open gap at the cutoff. Uses sales with ``ts < cutoff`` only.
    """
    cutoff = _cutoff(cutoff)
    d = _purchase_days(tables, cutoff)
    repeat = d.k > 0
    age = (d.day_s - d.first_s) / DAY_S
    end = d.next_s.fill_null(_days(cutoff))
    return d.select(
        KEY,
        "purchase_day",
        repeat_purchase_days=d.k.cast("float64"),
        age_at_purchase_days=age,
        purchase_spend=d.spend.cast("float64"),
        repeat_spend_mean=ibis.ifelse(
            repeat, (d.cum_spend - d.first_spend) / d.k, ibis.null("float64")
        ),
        gap_mean_days=ibis.ifelse(repeat, age / d.k, ibis.null("float64")),
        gap_days=(end - d.day_s) / DAY_S,
        next_purchase=d.next_s.notnull(),
    ).order_by([KEY, "purchase_day"])


def build_purchase_days(tables: Mapping[str, ir.Table], cutoff: dt.datetime | dt.date) -> ir.Table:
    """The purchase summary of every customer signed up before ``cutoff``.

    Columns: ``customer_id``, ``repeat_purchase_days`` (x: purchase days after the first),
    ``purchase_span_days`` (t_x: first to last purchase day), ``days_since_first_purchase``
    (T: first purchase day to the cutoff), ``repeat_spend_mean`` (mean spend of the repeat
    purchase days; null without one) and ``first_purchase_spend``. A customer without a
    sale before the cutoff has nulls (the CLV models score purchasers only). Uses sales
    with ``ts < cutoff`` only.
    """
    cutoff = _cutoff(cutoff)
    customers = _table(tables, "customers")
    population = customers.filter(customers.signup_ts < cutoff).select(KEY)
    d = _purchase_days(tables, cutoff)
    last = d.filter(d.next_s.isnull())
    summary = last.select(
        key=last[KEY],
        repeat_purchase_days=last.k.cast("float64"),
        purchase_span_days=(last.day_s - last.first_s) / DAY_S,
        days_since_first_purchase=(_days(cutoff) - last.first_s) / DAY_S,
        repeat_spend_mean=ibis.ifelse(
            last.k > 0, (last.cum_spend - last.first_spend) / last.k, ibis.null("float64")
        ),
        first_purchase_spend=last.first_spend.cast("float64"),
    )
    joined = population.left_join(summary, population[KEY] == summary.key)
    return joined.select(KEY, *SUMMARY_COLUMNS).order_by(KEY)
