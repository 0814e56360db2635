"""Fit outcomes of order lines, the training frame of the size models.

One row per sized order line with a known fit: ``too_small``/``too_large`` when it came
back for that reason, else the explicit ``fit_feedback`` on the kept line, else ``fit``
(kept without complaint). Point in time: orders and returns with ``ts < cutoff`` only;
a line ordered within ``return_window_days`` before the cutoff and not yet returned is
*pending* (it may still come back) and left out. Lines left out are counted by reason,
so that ``lines == len(frame) + sum(excluded.values())``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from features.contract.schema import FIT_REASONS
from features.errors import EmptyResultError

if TYPE_CHECKING:
    import ibis.expr.types as ir

COLUMNS = (
    "line_id", "order_id", "customer_id", "product_id", "style", "category", "size", "ts",
    "fit", "source",
)  # fmt: skip


@dataclass
class FitOutcomes:
    frame: pd.DataFrame
    lines: int  # order lines of orders before the cutoff
    excluded: dict[str, int]  # reason -> lines left out


def make_fit_outcomes(
    tables: Mapping[str, pd.DataFrame],
    cutoff: dt.datetime | None = None,
    *,
    return_window_days: float = 0.0,
) -> FitOutcomes:
    """Fit outcome per sized order line from ``orders``, ``order_lines`` and ``returns``.

    Uses orders and returns with ``ts < cutoff`` (all when ``cutoff`` is None). Does not
    change its inputs; ties between returns of one line go to the earliest, then the
    smallest ``return_id``.
    """
    orders, lines, returns = tables["orders"], tables["order_lines"], tables["returns"]
    if cutoff is not None:
        orders = orders[orders["ts"] < cutoff]
        returns = returns[returns["ts"] < cutoff]
    df = lines.merge(orders[["order_id", "customer_id", "ts"]], on="order_id", how="inner")
    excluded: dict[str, int] = {}

    def drop(mask, reason: str) -> None:
        nonlocal df
        if int(mask.sum()):
            excluded[reason] = excluded.get(reason, 0) + int(mask.sum())
        df = df[~mask]

    n_lines = len(df)
    drop(df["quantity"] <= 0, "refund line")
    drop(df["size"].isna(), "no size")
    first = returns.sort_values(["line_id", "ts", "return_id"]).drop_duplicates("line_id")
    df = df.merge(first[["line_id", "reason"]], on="line_id", how="left")
    drop(df["reason"].notna() & ~df["reason"].isin(FIT_REASONS), "returned for another reason")
    if cutoff is not None and return_window_days > 0:
        recent = df["ts"] >= cutoff - dt.timedelta(days=return_window_days)
        drop(recent & df["reason"].isna(), "pending: may still be returned")
    # object dtype: Arrow sources arrive as categoricals with differing categories
    reason = df["reason"].astype(object)
    feedback = (
        df["fit_feedback"].astype(object)
        if "fit_feedback" in df
        else pd.Series(None, index=df.index)
    )
    df = df.assign(
        fit=reason.fillna(feedback).fillna("fit"),
        source=(
            df["reason"]
            .notna()
            .map({True: "return", False: "kept"})
            .where(df["reason"].notna() | feedback.isna(), "feedback")
        ),
    )
    for col in ("style", "category"):
        if col not in df:
            df[col] = None
    frame = df[list(COLUMNS)].sort_values(["ts", "line_id"], kind="stable").reset_index(drop=True)
    if frame.empty:
        raise EmptyResultError(
            f"no order line with a known fit before {cutoff} ({n_lines} lines; left out: {excluded})"
        )
    return FitOutcomes(frame, n_lines, excluded)


@dataclass
class FitSplit:
    """Out-of-time split of fit outcomes by order date."""

    train: FitOutcomes  # outcomes known before test_start, of orders before it
    test: pd.DataFrame  # orders in [test_start, test_end), outcomes known by observed_until
    test_excluded: dict[str, int]  # reason -> test-window lines left out


def split_fit_outcomes(
    tables: Mapping[str, pd.DataFrame],
    test_start: dt.datetime,
    test_end: dt.datetime,
    *,
    observed_until: dt.datetime,
    return_window_days: float,
) -> FitSplit:
    """Train on what was known at ``test_start``; test on the orders of ``[test_start, test_end)``.

    Training sees orders and returns before ``test_start`` only (lines that could still
    come back are left out, see :func:`make_fit_outcomes`); test lines carry the outcomes
    known by ``observed_until``, and those still pending then are left out too.
    """
    if not test_start < test_end <= observed_until:
        raise ValueError(
            f"need test_start < test_end <= observed_until; got {test_start}, {test_end}, "
            f"{observed_until}"
        )
    train = make_fit_outcomes(tables, test_start, return_window_days=return_window_days)
    known = make_fit_outcomes(tables, observed_until, return_window_days=return_window_days)
    ts = known.frame["ts"]
    test = known.frame[(ts >= test_start) & (ts < test_end)].reset_index(drop=True)
    if test.empty:
        raise EmptyResultError(
            f"no order line with a known fit ordered in [{test_start}, {test_end})"
        )
    return FitSplit(train, test, known.excluded)


def size_guide_orders(tables: Mapping[str, ir.Table], page: str = "size_guide") -> ir.Table:
    """``order_id, size_guide``: whether the session an order was placed in viewed ``page``.

    An order's session is the one holding its ``purchase`` event: same customer, same
    timestamp (the contract's orders carry no session key). An order with no such event
    is not guided. A pick made after the size guide is evidence of her true size
    (``SizeRecommender(guide_col=...)``). Ibis over ``events`` and ``orders``; one row per
    order.
    """
    ev = tables["events"]
    guided = ev.filter(ev.page == page).select("session_id")
    buys = ev.filter(ev.event_type == "purchase")
    buys = buys.select(
        buy_customer=buys.customer_id,
        buy_ts=buys.ts,
        guided=buys.session_id.isin(guided.session_id),
    )
    orders = tables["orders"].select("order_id", "customer_id", "ts")
    joined = orders.left_join(
        buys, [orders.customer_id == buys.buy_customer, orders.ts == buys.buy_ts]
    )
    return joined.group_by("order_id").agg(size_guide=joined.guided.fill_null(False).any())
