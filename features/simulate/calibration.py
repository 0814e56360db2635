"""Published magnitudes measured on simulated data (see the README's simulator section)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

FIT = ("too_small", "too_large")


def _df(t: pa.Table, cols: list[str]) -> pd.DataFrame:
    return t.select(cols).to_pandas()


def measure(tables: dict[str, pa.Table], *, start: dt.date, end: dt.date) -> dict[str, float]:
    """Return, repeat-purchase, spend and member-churn figures of one simulated dataset.

    - ``return_share``: returned lines / lines; ``fit_share_of_returns``: too_small or
      too_large among returns; ``top_reason``: the most common reason;
    - ``one_order_share``: customers with exactly one order among customers with any order;
      ``never_ordered_share``: customers with no order;
    - ``top10_revenue_share``: revenue share of the top 10% of buyers by spend, and
      ``spend_p99_over_median`` (heavy tail);
    - ``member_quarterly_churn``: memberships ending within a calendar quarter over those
      open at its start (plan changes excluded), mean over the quarters after the first;
    - ``nov_dec_order_share``: orders placed in November or December.
    """
    orders = _df(tables["orders"], ["customer_id", "ts", "revenue"])
    returns = _df(tables["returns"], ["reason"])
    n_customers = tables["customers"].num_rows
    n_lines = tables["order_lines"].num_rows
    per_customer = orders.groupby("customer_id", observed=True).agg(
        n=("ts", "size"), spend=("revenue", "sum")
    )
    spend = np.sort(per_customer.spend.to_numpy())[::-1]
    top = spend[: max(1, len(spend) // 10)].sum() / spend.sum()
    reasons = returns.reason.astype(str).value_counts()
    out = {
        "customers": float(n_customers),
        "orders_per_customer": len(orders) / n_customers,
        "events_per_customer": tables["events"].num_rows / n_customers,
        "return_share": len(returns) / n_lines,
        "fit_share_of_returns": float(reasons.reindex(list(FIT)).fillna(0).sum() / len(returns)),
        "one_order_share": float((per_customer.n == 1).mean()),
        "never_ordered_share": 1 - len(per_customer) / n_customers,
        "top10_revenue_share": float(top),
        "spend_p99_over_median": float(np.quantile(spend, 0.99) / np.median(spend)),
        "member_quarterly_churn": member_quarterly_churn(tables["subscriptions"], start, end),
        "nov_dec_order_share": float(orders.ts.dt.month.isin([11, 12]).mean()),
    }
    out["top_reason"] = reasons.index[0]  # type: ignore[assignment]
    return out


def member_quarterly_churn(subs: pa.Table, start: dt.date, end: dt.date) -> float:
    """Mean over calendar quarters of memberships ended in the quarter / open at its start."""
    s = _df(subs, ["customer_id", "start_ts", "end_ts"])
    if s.empty:
        return float("nan")
    # A plan change ends one row and starts the next at the same time: one membership spell.
    spell = s.groupby("customer_id", observed=True).agg(
        start=("start_ts", "min"), end=("end_ts", lambda x: x.max() if x.notna().all() else pd.NaT)
    )
    quarters = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="QS")
    rates = []
    for q0, q1 in zip(quarters[1:-1], quarters[2:], strict=True):
        open_ = (spell.start < q0) & (spell.end.isna() | (spell.end >= q0))
        ended = open_ & (spell.end < q1)
        if open_.sum():
            rates.append(ended.sum() / open_.sum())
    return float(np.mean(rates)) if rates else float("nan")
