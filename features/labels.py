"""Targets at a cutoff: churn, time to churn, future revenue and fit of order lines.

Labels look ahead: they use events in ``[cutoff, cutoff + horizon)``, the features
(``features.builders``) use ``ts < cutoff``. An event exactly at the cutoff is a label
event, never a feature event. Every maker is a pure Ibis expression builder like the
feature builders; only :func:`observation_end` runs a query.

The population at a cutoff is the customers with ``signup_ts < cutoff``. Churn by
``cancellation`` narrows it to members: customers with a subscription active at the
cutoff (``start_ts < cutoff`` and ``end_ts`` null or ``>= cutoff``).

A membership *lapses* at a subscription's ``end_ts`` unless the customer is covered
again within ``lapse_grace_days`` (another subscription starting by then and not ended
by that ``end_ts``): a plan change ends one row and starts the next, and is not a lapse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import ibis

from features.builders._common import (
    DAY_S,
    KEY,
    as_cutoff,
    attach,
    days_before,
    population,
    require,
    sales,
    ts_epoch_s,
)
from features.errors import JourneyError, unknown_name_message

if TYPE_CHECKING:
    import ibis.expr.types as ir

ChurnDefinition = Literal["inactivity", "cancellation"]
CHURN_DEFINITIONS = ("inactivity", "cancellation")
FIT_LABELS = ("kept", "too_small", "too_large")


class LabelWindowError(JourneyError):
    """A label window reaches past the end of the observed data."""


def observation_end(tables: Mapping[str, ir.Table]) -> dt.datetime:
    """Midnight after the last timestamp in orders, events, returns and subscriptions.

    Runs one query. Label windows must end by this instant (exclusive) to be complete.
    """
    stamps = []
    for name, cols in {
        "orders": ("ts",),
        "events": ("ts",),
        "returns": ("ts",),
        "subscriptions": ("start_ts", "end_ts"),
    }.items():
        if name in tables:
            stamps += [tables[name][c].max() for c in cols]
    if not stamps:
        raise JourneyError("no timestamped tables to find the end of observation in")
    values = [v for v in (s.to_pyarrow().as_py() for s in stamps) if v is not None]
    if not values:
        raise JourneyError("the data holds no timestamps: cannot find the end of observation")
    last = max(values)
    return dt.datetime(last.year, last.month, last.day) + dt.timedelta(days=1)


def _check_window(cutoff: dt.datetime, days: float, observed_until: dt.datetime | None) -> None:
    if observed_until is None:
        return
    end = cutoff + dt.timedelta(days=days)
    if end > observed_until:
        latest = observed_until - dt.timedelta(days=days)
        raise LabelWindowError(
            f"the label window [{cutoff:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) ends after the "
            f"data does ({observed_until:%Y-%m-%d %H:%M}); the latest complete cutoff is "
            f"{latest:%Y-%m-%d %H:%M}"
        )


def _definition(definition: str) -> str:
    if definition not in CHURN_DEFINITIONS:
        raise JourneyError(unknown_name_message("churn definition", definition, CHURN_DEFINITIONS))
    return definition


def members(tables: Mapping[str, ir.Table], cutoff: dt.datetime) -> ir.Table:
    """Customers in the population with a subscription active at the cutoff."""
    (subs,) = require(tables, "subscriptions")
    active = subs.filter(
        (subs.start_ts < cutoff) & (subs.end_ts.isnull() | (subs.end_ts >= cutoff))
    )
    return population(tables, cutoff).semi_join(active, KEY).select(KEY)


def lapses(
    tables: Mapping[str, ir.Table], start: dt.datetime, end: dt.datetime, *, grace_days: float
) -> ir.Table:
    """``customer_id, lapse_ts``: subscription ends in ``[start, end)`` that are lapses."""
    (subs,) = require(tables, "subscriptions")
    ends = subs.filter((subs.end_ts >= start) & (subs.end_ts < end)).select(
        KEY, lapse_ts=subs.end_ts, lapse_s=ts_epoch_s(subs.end_ts)
    )
    cover = subs.select(
        cover_id=subs[KEY],
        cover_start_s=ts_epoch_s(subs.start_ts),
        cover_end_s=ts_epoch_s(subs.end_ts),
    )
    covered = [
        ends[KEY] == cover.cover_id,
        cover.cover_start_s <= ends.lapse_s + grace_days * DAY_S,
        cover.cover_end_s.isnull() | (cover.cover_end_s > ends.lapse_s),
    ]
    return ends.anti_join(cover, covered).select(KEY, "lapse_ts")


def make_churn_labels(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime | dt.date,
    *,
    definition: ChurnDefinition,
    horizon_days: int,
    lapse_grace_days: float,
    observed_until: dt.datetime | None = None,
) -> ir.Table:
    """``customer_id, churned`` (1 or 0) for the customers at risk at ``cutoff``.

    Uses events in ``[cutoff, cutoff + horizon_days)`` only.

    - ``inactivity``: everyone with ``signup_ts < cutoff``; churned when they place no
      sale (an order that is not a refund) in the window;
    - ``cancellation``: members at the cutoff; churned when their membership lapses in
      the window (see the module docstring; the grace may look past the window's end).

    ``observed_until`` (exclusive end of the data) makes a window that runs past it an
    error instead of a silently wrong label.
    """
    cutoff = as_cutoff(cutoff)
    _check_window(cutoff, horizon_days, observed_until)
    end = cutoff + dt.timedelta(days=horizon_days)
    if _definition(definition) == "inactivity":
        (orders,) = require(tables, "orders")
        future = orders.filter((orders.ts >= cutoff) & (orders.ts < end) & sales(orders))
        active = future.select(KEY).distinct().mutate(active=ibis.literal(1))
        t = attach(population(tables, cutoff).select(KEY), active)
        return t.select(KEY, churned=ibis.ifelse(t.active.isnull(), 1, 0).cast("int64"))
    lapsed = lapses(tables, cutoff, end, grace_days=lapse_grace_days)
    lapsed = lapsed.select(KEY).distinct().mutate(lapsed=ibis.literal(1))
    t = attach(members(tables, cutoff), lapsed)
    return t.select(KEY, churned=t.lapsed.fill_null(0).cast("int64"))


def make_time_to_churn_labels(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime | dt.date,
    *,
    definition: ChurnDefinition,
    max_days: int,
    lapse_grace_days: float,
    observed_until: dt.datetime,
) -> ir.Table:
    """``customer_id, duration_days, event`` for survival models, from ``cutoff`` on.

    Uses events in ``[cutoff, end)`` only, ``end = min(cutoff + max_days,
    observed_until)``. ``event`` is 1 when the event is seen before ``end`` and
    ``duration_days`` is the days from the cutoff to it; otherwise ``event`` is 0
    (censored) and ``duration_days`` is the days from the cutoff to ``end``.

    - ``inactivity``: the event is the customer's next sale, so the survival function is
      the chance of *staying inactive*: ``P(churn within h days) = S(h)``, exactly the
      binary inactivity label for ``horizon_days = h``. Population: ``signup_ts < cutoff``.
    - ``cancellation``: the event is the first membership lapse, so
      ``P(churn within h days) = 1 - S(h)``. Population: members at the cutoff.

    An event exactly at the cutoff gives ``duration_days = 0``.
    """
    cutoff = as_cutoff(cutoff)
    observed_until = as_cutoff(observed_until)
    if observed_until <= cutoff:
        raise LabelWindowError(
            f"nothing is observed after the cutoff {cutoff:%Y-%m-%d %H:%M}: the data ends "
            f"at {observed_until:%Y-%m-%d %H:%M}"
        )
    end = min(cutoff + dt.timedelta(days=max_days), observed_until)
    if _definition(definition) == "inactivity":
        (orders,) = require(tables, "orders")
        hits = orders.filter((orders.ts >= cutoff) & (orders.ts < end) & sales(orders))
        first = hits.group_by(KEY).aggregate(event_ts=hits.ts.min())
        base = population(tables, cutoff).select(KEY)
    else:
        hits = lapses(tables, cutoff, end, grace_days=lapse_grace_days)
        first = hits.group_by(KEY).aggregate(event_ts=hits.lapse_ts.min())
        base = members(tables, cutoff)
    t = attach(base, first)
    censored = (end - cutoff).total_seconds() / DAY_S
    return t.select(
        KEY,
        duration_days=ibis.ifelse(
            t.event_ts.isnull(),
            ibis.literal(censored),
            -days_before(t.event_ts, cutoff),
        ),
        event=ibis.ifelse(t.event_ts.isnull(), 0, 1).cast("int64"),
    )


def make_revenue_labels(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime | dt.date,
    *,
    horizon_days: int,
    observed_until: dt.datetime | None = None,
) -> ir.Table:
    """``customer_id, future_revenue, future_orders`` over ``[cutoff, cutoff + horizon_days)``.

    Uses orders in that window only. ``future_revenue`` is sales minus refunds (by their
    absolute amount) in the window, not clipped at zero (a refund in the window of an
    order before it counts); ``future_orders`` counts sales. Population:
    ``signup_ts < cutoff``; 0 for customers without orders in the window.
    """
    cutoff = as_cutoff(cutoff)
    _check_window(cutoff, horizon_days, observed_until)
    (orders,) = require(tables, "orders")
    end = cutoff + dt.timedelta(days=horizon_days)
    future = orders.filter((orders.ts >= cutoff) & (orders.ts < end))
    sale = sales(future)
    amount = ibis.ifelse(sale, future.revenue, -future.revenue.abs())
    per_customer = future.group_by(KEY).aggregate(
        future_revenue=amount.sum(), future_orders=future.count(where=sale)
    )
    t = attach(
        population(tables, cutoff).select(KEY),
        per_customer,
        fill={"future_revenue": 0.0, "future_orders": 0},
    )
    return t.select(
        KEY,
        future_revenue=t.future_revenue.cast("float64"),
        future_orders=t.future_orders.cast("int64"),
    )


def make_fit_labels(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime | dt.date,
    *,
    window_days: int | None,
    return_days: int,
    observed_until: dt.datetime | None = None,
) -> ir.Table:
    """One row per sale line ordered in ``[cutoff - window_days, cutoff)``, with its fit.

    ``window_days=None`` takes every line ordered before the cutoff. A line's label uses
    its returns received in ``[order ts, order ts + return_days)``, which may lie after
    the cutoff (labels look ahead), and its ``fit_feedback``:

    - a return for ``too_small`` or ``too_large`` (the earliest such, ties by
      ``return_id``): that reason, ``fit_source = "return"``;
    - otherwise a return for another reason: ``fit`` null (fit unknown),
      ``fit_source = "return_other"``;
    - otherwise feedback ``too_small`` / ``too_large``: that, ``fit_source = "feedback"``;
      feedback ``fit``: ``kept``, ``fit_source = "feedback"``;
    - otherwise ``kept``, ``fit_source = "kept"``.

    Columns: ``line_id, order_id, customer_id, order_ts, product_id, category, style,
    size, band, cup, fit, fit_source``.
    """
    cutoff = as_cutoff(cutoff)
    _check_window(cutoff, return_days, observed_until)
    lines, orders, returns = require(tables, "order_lines", "orders", "returns")
    in_window = (orders.ts < cutoff) & sales(orders)
    if window_days is not None:
        in_window &= orders.ts >= cutoff - dt.timedelta(days=window_days)
    bought = orders.filter(in_window).select("order_id", KEY, order_ts=orders.ts)
    sold = lines.filter(lines.quantity > 0).join(bought, "order_id")

    timely = returns.join(sold.select("line_id", "order_ts"), "line_id")
    timely = timely.filter(
        (timely.ts >= timely.order_ts)
        & (ts_epoch_s(timely.ts) < ts_epoch_s(timely.order_ts) + return_days * DAY_S)
    )
    fit_reason = timely.reason.isin(["too_small", "too_large"])
    ranked = timely.mutate(
        rank=ibis.row_number().over(
            group_by="line_id",
            order_by=[ibis.ifelse(fit_reason, 0, 1), "ts", "return_id"],
        )
    )
    first = ranked.filter(ranked["rank"] == 0).select("line_id", return_reason=ranked.reason)
    t = sold.left_join(first, "line_id").drop("line_id_right")
    fit_return = t.return_reason.isin(["too_small", "too_large"])
    feedback = t.fit_feedback
    fit = ibis.cases(
        (fit_return, t.return_reason),
        (t.return_reason.notnull(), ibis.null("string")),
        (feedback.isin(["too_small", "too_large"]), feedback),
        else_=ibis.literal("kept"),
    )
    source = ibis.cases(
        (fit_return, "return"),
        (t.return_reason.notnull(), "return_other"),
        (feedback.notnull(), "feedback"),
        else_="kept",
    )
    return t.select(
        "line_id",
        "order_id",
        KEY,
        "order_ts",
        "product_id",
        "category",
        "style",
        "size",
        "band",
        "cup",
        fit=fit,
        fit_source=source,
    ).order_by("line_id")
