"""Returns and size: return rate, fit returns too small / too large, sizes tried, size drift.

Point in time: uses order lines of sales with order ``ts < cutoff`` and returns with
``ts < cutoff`` (of those lines) only. The recent window is
``[cutoff - window_days, cutoff)`` on the return's ``ts``. Quantities are units: a
line's ``quantity`` (lines with ``quantity <= 0`` are refund lines and not purchases)
and a return's ``quantity``.

``fit_feedback`` is not used here: it carries no timestamp, so it cannot be placed
before or after a cutoff (the fit labels use it).

Sizes tried are distinct ``size`` labels and distinct (band, cup) pairs; bands and cups
are counted over the contract's bands and cups (cups case-blind).

Size drift is in cup-volume steps (``features.sizes``): band step + cup step, equal for
sister sizes. ``cup_volume_drift_steps`` is the mean cup volume of bra lines kept (not
returned before the cutoff) minus the mean over all bra lines bought; negative means the
customer keeps smaller volumes than she orders.

Every customer with ``signup_ts < cutoff`` gets a row: counts are 0 without purchases;
``return_rate`` is null without units bought and ``cup_volume_drift_steps`` without a
kept bra line.
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
from features.contract.schema import BRA_BANDS, BRA_CUPS
from features.sizes import CUP_STEP

if TYPE_CHECKING:
    import ibis.expr.types as ir

DESCRIPTION = "Returns and fit: return rate, fit returns too small or too large, sizes tried and the drift from size bought to size kept."


def reasons(*, window_days: int) -> dict[str, str]:
    """Feature name -> plain-language template (``{value}`` is the feature value)."""
    w = window_days
    return {
        "units_bought": "{value:.0f} items bought",
        "returns_lifetime": "{value:.0f} items returned in total",
        "return_rate": "returns {value:.0%} of items",
        "fit_returns_lifetime": "{value:.0f} fit returns in total",
        f"returns_{w}d": f"{{value:.0f}} returns in {w} days",
        f"fit_returns_{w}d": f"{{value:.0f}} fit returns in {w} days",
        f"too_small_returns_{w}d": f"{{value:.0f}} returns as too small in {w} days",
        f"too_large_returns_{w}d": f"{{value:.0f}} returns as too large in {w} days",
        "distinct_sizes": "tried {value:.0f} different sizes",
        "distinct_bands": "tried {value:.0f} bra bands",
        "distinct_cups": "tried {value:.0f} cup sizes",
        "distinct_bra_sizes": "tried {value:.0f} bra sizes",
        "cup_volume_drift_steps": "keeps {value:+.1f} cup volumes from what she orders",
    }


def purchased_lines(tables: Mapping[str, ir.Table], cutoff: dt.datetime) -> ir.Table:
    """Lines of sales ordered before the cutoff, with ``customer_id`` and ``order_ts``."""
    lines, orders = require(tables, "order_lines", "orders")
    bought = orders.filter((orders.ts < cutoff) & sales(orders)).select(
        "order_id", KEY, order_ts=orders.ts
    )
    return lines.filter(lines.quantity > 0).join(bought, "order_id")


def cup_volume(band: ir.IntegerValue, cup: ir.StringValue) -> ir.FloatingValue:
    """Cup volume in steps (``features.sizes.cup_volume``); null for non-bras."""
    cup_step = cup.upper().cases(*CUP_STEP.items(), else_=ibis.null("int64"))
    return (band.cast("float64") - BRA_BANDS[0]) / 2 + cup_step.cast("float64")


def build_returns(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime | dt.date,
    *,
    window_days: int,
) -> ir.Table:
    """Returns and size features, one row per customer signed up before ``cutoff``.

    Uses lines ordered and returns received before ``cutoff`` only.

    Parameters
    ----------
    tables
        Canonical tables; needs ``customers``, ``orders``, ``order_lines``, ``returns``.
    cutoff
        Naive UTC instant; a date means its midnight.
    window_days
        The recent window for ``*_returns_<w>d``.
    """
    cutoff = as_cutoff(cutoff)
    pop = population(tables, cutoff)
    (returns,) = require(tables, "returns")
    lines = purchased_lines(tables, cutoff)
    past = returns.filter(returns.ts < cutoff).join(lines.select("line_id", KEY), "line_id")
    recent = past.ts >= cutoff - dt.timedelta(days=window_days)
    fit = past.reason.isin(["too_small", "too_large"])
    w = window_days
    by_returns = past.group_by(KEY).aggregate(
        returns_lifetime=past.quantity.sum(),
        fit_returns_lifetime=past.quantity.sum(where=fit),
        **{
            f"returns_{w}d": past.quantity.sum(where=recent),
            f"fit_returns_{w}d": past.quantity.sum(where=recent & fit),
            f"too_small_returns_{w}d": past.quantity.sum(
                where=recent & (past.reason == "too_small")
            ),
            f"too_large_returns_{w}d": past.quantity.sum(
                where=recent & (past.reason == "too_large")
            ),
        },
    )

    returned = past.group_by("line_id").aggregate(returned=past.count())
    lines = lines.left_join(returned, "line_id").drop("line_id_right")
    lines = lines.mutate(cup=lines.cup.upper())
    vol = cup_volume(lines.band, lines.cup)
    kept = lines.returned.isnull()
    bra = lines.band.notnull() & lines.cup.notnull()
    cup = lines.cup

    def tried(hit: ir.BooleanValue) -> ir.IntegerValue:
        return hit.fill_null(False).any().cast("int64")

    # Bands and cups have small fixed domains in the contract: summing "tried this one"
    # flags counts them without a distinct count (which engines run as extra passes).
    by_lines = lines.group_by(KEY).aggregate(
        units_bought=lines.quantity.sum(),
        distinct_bands=sum(tried(lines.band == b) for b in BRA_BANDS),
        distinct_cups=sum(tried(cup == c) for c in BRA_CUPS),
        vol_kept=vol.mean(where=bra & kept),
        vol_bought=vol.mean(where=bra),
    )
    labels = lines.filter(lines.size.notnull()).group_by([KEY, "size"]).aggregate()
    pairs = lines.filter(bra).group_by([KEY, "band", "cup"]).aggregate()
    counts = [
        c for c in reasons(window_days=w) if c not in ("return_rate", "cup_volume_drift_steps")
    ]
    sizes = labels.group_by(KEY).aggregate(distinct_sizes=labels.count())
    bra_sizes = pairs.group_by(KEY).aggregate(distinct_bra_sizes=pairs.count())
    t = attach(pop, by_returns, by_lines, sizes, bra_sizes, fill={c: 0 for c in counts})
    out = {c: f64(t[c]) for c in counts}
    out["return_rate"] = safe_ratio(t.returns_lifetime, t.units_bought)
    out["cup_volume_drift_steps"] = t.vol_kept - t.vol_bought
    return t.select(KEY, **{c: out[c] for c in reasons(window_days=w)})
