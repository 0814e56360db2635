"""Purchase summary: the BG/NBD and Gamma-Gamma inputs (x, t_x, T, repeat spend).

Point in time: uses sales (orders that are not refunds) with ``ts < cutoff`` only. A
purchase day is a calendar day (UTC) with at least one sale, as in the published CDNOW
analyses; its time is its first sale's and its spend the sum of its sales (see
``features.purchase_days``, which also builds the per-purchase gaps).

Every customer with ``signup_ts < cutoff`` gets a row; all five columns are null without
a sale, and ``repeat_spend_mean`` without a repeat purchase day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from features.builders._common import as_cutoff, require
from features.purchase_days import SUMMARY_COLUMNS, build_purchase_days

if TYPE_CHECKING:
    import ibis.expr.types as ir

DESCRIPTION = (
    "Purchase-day summary for the probabilistic CLV models: repeat purchase days, "
    "first-to-last and first-to-cutoff spans, mean repeat spend, first spend."
)
COLUMNS = SUMMARY_COLUMNS


def reasons() -> dict[str, str]:
    """Feature name -> plain-language template (``{value}`` is the feature value)."""
    return {
        "repeat_purchase_days": "bought again on {value:.0f} days after the first purchase",
        "purchase_span_days": "{value:.0f} days between first and last purchase",
        "days_since_first_purchase": "first purchase {value:.0f} days ago",
        "repeat_spend_mean": "{value:,.0f} spent per repeat purchase day",
        "first_purchase_spend": "{value:,.0f} spent on the first purchase day",
    }


def build_purchases(tables: Mapping[str, ir.Table], cutoff: dt.datetime | dt.date) -> ir.Table:
    """One row per customer with ``signup_ts < cutoff``: :data:`COLUMNS` from sales before it."""
    require(tables, "customers", "orders")
    return build_purchase_days(tables, as_cutoff(cutoff))
