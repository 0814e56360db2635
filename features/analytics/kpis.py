"""Commercial KPIs: revenue, average order value, first orders, reorders and cohorts.

Conventions shared by every function:

- a *sale* is an order that is not a refund; revenue totals are net (sales plus refunds,
  which carry negative revenue), while order counts, AOV, first orders and reorders use
  sales only;
- a customer's *first order* is their earliest sale by ``(ts, order_id)``, and a
  *reorder* is any later sale in that order (a second order on the same day counts);
- group labels come from ``customers`` (the acquisition ``channel``, ``region``...); a
  missing label becomes ``unknown_label`` so that no revenue is dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from features.errors import EmptyResultError, UnknownValueError, unknown_name_message

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class Share:
    """``count`` of ``total``."""

    count: int
    total: int

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {"count": self.count, "total": self.total, "share": self.share}


def _sales(orders: ir.Table) -> ir.Table:
    sales = orders.filter(~orders.is_refund.fill_null(False))
    if int(sales.count().to_pandas()) == 0:
        raise EmptyResultError("no orders (other than refunds) to compute KPIs on")
    return sales


def _first_orders(sales: ir.Table) -> ir.Table:
    """Sales with ``_rank`` (0 = first order) and ``_first_ts`` per customer."""
    w = ibis.window(group_by=sales.customer_id, order_by=[sales.ts, sales.order_id])
    return sales.mutate(
        _rank=ibis.row_number().over(w), _first_ts=sales.ts.min().over(group_by=sales.customer_id)
    )


def _labelled(
    orders: ir.Table, customers: ir.Table, by: Sequence[str], unknown_label: str
) -> ir.Table:
    valid = [c for c in customers.columns if c != "customer_id"]
    for col in by:
        if col not in valid:
            raise UnknownValueError(unknown_name_message("customer column", col, valid))
    c = customers.select(_cid=customers.customer_id, **{f"_{k}": customers[k] for k in by})
    joined = orders.left_join(c, orders.customer_id == c._cid)
    return joined.mutate(
        **{k: joined[f"_{k}"].cast("string").fill_null(unknown_label) for k in by}
    ).drop("_cid", *[f"_{k}" for k in by])


def sum_revenue_by(
    orders: ir.Table,
    customers: ir.Table,
    *,
    by: Sequence[str] = ("channel", "region"),
    unknown_label: str = "(unknown)",
) -> pd.DataFrame:
    """Net revenue and sales count per combination of customer attributes ``by``.

    Columns: ``*by, orders, revenue, share`` (of all net revenue), largest revenue first.
    """
    _sales(orders)
    t = _labelled(orders, customers, by, unknown_label)
    sale = (~t.is_refund.fill_null(False)).cast("int64")
    out = t.group_by(list(by)).agg(orders=sale.sum(), revenue=t.revenue.sum())
    out = out.mutate(share=out.revenue / out.revenue.sum().over())
    return out.order_by([ibis.desc("revenue"), *by]).to_pandas()


def compute_aov(orders: ir.Table) -> float:
    """Average order value: sales revenue over the number of sales."""
    s = _sales(orders)
    return float(s.revenue.mean().to_pandas())


def compute_aov_by(
    orders: ir.Table,
    customers: ir.Table,
    *,
    by: str = "channel",
    unknown_label: str = "(unknown)",
) -> pd.DataFrame:
    """AOV per value of the customer attribute ``by`` (the acquisition channel by default).

    Columns: ``by, orders, revenue, aov``; highest AOV first.
    """
    t = _labelled(_sales(orders), customers, [by], unknown_label)
    out = t.group_by(by).agg(orders=t.count(), revenue=t.revenue.sum(), aov=t.revenue.mean())
    return out.order_by([ibis.desc("aov"), by]).to_pandas()


def share_first_order_within(
    customers: ir.Table, orders: ir.Table, *, days: int, inclusive: bool = True
) -> Share:
    """Customers whose first order came within ``days`` of signup, of all customers.

    Within means ``signup_ts <= first_order_ts <= signup_ts + days`` when ``inclusive``
    (how the DTC case study counts "within 7 days" on dates), else ``< signup_ts + days``.
    Customers who never ordered count in the total only.
    """
    total = int(customers.count().to_pandas())
    if total == 0:
        raise EmptyResultError("no customers")
    first = _sales(orders).group_by("customer_id").agg(_first_ts=lambda t: t.ts.min())
    t = customers.join(first, "customer_id")
    end = t.signup_ts + ibis.interval(days=days)
    within = (t._first_ts >= t.signup_ts) & (
        (t._first_ts <= end) if inclusive else (t._first_ts < end)
    )
    return Share(int(t.filter(within).count().to_pandas()), total)


def count_promo_first_orders_never_reordered(orders: ir.Table) -> Share:
    """Of customers whose first order used a promo code, those who never ordered again."""
    ranked = _first_orders(_sales(orders))
    n = ranked.count().over(group_by=ranked.customer_id)
    firsts = ranked.mutate(_n=n).filter(lambda t: (t._rank == 0) & t.promo_code.notnull())
    row = firsts.aggregate(
        total=firsts.count(), once=(firsts._n == 1).cast("int64").sum()
    ).to_pandas()
    return Share(int(row.once.fillna(0).iloc[0]), int(row.total.iloc[0]))


def compute_reorder_retention(
    orders: ir.Table,
    *,
    days: Sequence[int] = (30, 60, 90),
    inclusive: bool = False,
    observation_end: dt.datetime | None = None,
) -> pd.DataFrame:
    """Share of customers who ordered again within N days of their first order.

    The denominator is the customers with any sale; the numerator those with a reorder
    at ``ts < first_ts + N days`` (``<=`` when ``inclusive``). With ``observation_end``
    (exclusive), a customer counts for N only when ``first_ts + N days <= observation_end``,
    so that recent customers do not look lost. Columns: ``days, customers, retained, share``.
    """
    ranked = _first_orders(_sales(orders))
    rows = []
    for n in days:
        t = ranked.mutate(_end=ranked._first_ts + ibis.interval(days=n))
        if observation_end is not None:
            t = t.filter(t._end <= observation_end)
        hit = (t._rank > 0) & ((t.ts <= t._end) if inclusive else (t.ts < t._end))
        row = t.aggregate(
            customers=t.customer_id.nunique(),
            retained=ibis.ifelse(hit, t.customer_id, ibis.null("string")).nunique(),
        ).to_pandas()
        customers, retained = int(row.customers.iloc[0]), int(row.retained.iloc[0])
        rows.append(
            {
                "days": n,
                "customers": customers,
                "retained": retained,
                "share": retained / customers if customers else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def roll_revenue(orders: ir.Table, *, window_days: int) -> pd.DataFrame:
    """Daily net revenue and its trailing ``window_days`` sum (the day and those before it).

    Every calendar day from the first to the last order appears, days without orders
    with zero. Columns: ``date, revenue, rolling_revenue``.
    """
    _sales(orders)
    daily = orders.group_by(date=orders.ts.date()).agg(revenue=orders.revenue.sum()).to_pandas()
    daily["date"] = pd.to_datetime(daily["date"])
    series = daily.set_index("date").revenue.sort_index()
    series = series.reindex(pd.date_range(series.index.min(), series.index.max()), fill_value=0.0)
    rolled = series.rolling(f"{window_days}D").sum()
    return pd.DataFrame(
        {"date": series.index, "revenue": series.to_numpy(), "rolling_revenue": rolled.to_numpy()}
    )


def build_cohort_retention(orders: ir.Table, *, max_months: int = 12) -> pd.DataFrame:
    """Monthly acquisition cohorts: who ordered again, month after month.

    A customer's cohort is the calendar month of their first order; month k holds the
    customers of the cohort with a sale in the k-th calendar month after it (month 0 is
    the whole cohort). Months after the last month with any sale are not observed and
    have no row. Columns: ``cohort`` (``YYYY-MM``), ``months_since_first``,
    ``customers``, ``cohort_customers``, ``share``.
    """
    s = _sales(orders)
    s = s.mutate(_m=s.ts.year() * 12 + s.ts.month() - 1)
    s = s.mutate(_cohort=s._m.min().over(group_by=s.customer_id))
    active = (
        s.group_by([s._cohort, (s._m - s._cohort).name("months_since_first")])
        .agg(customers=s.customer_id.nunique())
        .to_pandas()
    )
    last = int(s._m.max().to_pandas())
    sizes = active[active.months_since_first == 0].set_index("_cohort").customers
    grid = pd.DataFrame(
        [(c, k) for c in sorted(sizes.index) for k in range(min(max_months, last - int(c)) + 1)],
        columns=["_cohort", "months_since_first"],
    )
    out = grid.merge(active, on=["_cohort", "months_since_first"], how="left")
    out["customers"] = out.customers.fillna(0).astype("int64")
    out["cohort_customers"] = out._cohort.map(sizes).astype("int64")
    out["share"] = out.customers / out.cohort_customers
    out["cohort"] = [f"{int(m) // 12:04d}-{int(m) % 12 + 1:02d}" for m in out._cohort]
    return out[["cohort", "months_since_first", "customers", "cohort_customers", "share"]]


def count_converted_sessions(
    events: ir.Table,
    *,
    conversion_event_types: Sequence[str] = ("purchase",),
    unknown_label: str = "(unknown)",
) -> pd.DataFrame:
    """Sessions and converted sessions per traffic source.

    A session converts when any of its events has a type in ``conversion_event_types``;
    its source is its first event's (by ``ts, seq``). Columns: ``source, sessions,
    converted, share``; most conversions first.
    """
    if int(events.count().to_pandas()) == 0:
        raise EmptyResultError("no events, so no sessions")
    e = events
    sessions = e.group_by("session_id").agg(
        source=e.source.first(order_by=[e.ts, e.seq]),
        converted=e.event_type.isin(list(conversion_event_types)).any(),
    )
    sessions = sessions.mutate(source=sessions.source.fill_null(unknown_label))
    out = sessions.group_by("source").agg(
        sessions=sessions.count(), converted=sessions.converted.cast("int64").sum()
    )
    out = out.mutate(share=out.converted / out.sessions)
    return out.order_by([ibis.desc("converted"), "source"]).to_pandas()
