"""Returns and size: return rate, fit returns too small / too large, sizes tried, size drift.

Point in time: uses order lines of sales with order ``ts < cutoff`` and returns with
``ts < cutoff`` (of those lines) only. The recent window is
``[cutoff - window_days, cutoff)`` on the return's ``ts``. Quantities are units: a
line's ``quantity`` (lines with ``quantity <= 0`` are refund lines and not purchases)
and a return's ``quantity``.

``fit_feedback`` is not used here: it carries no timestamp, so it cannot be placed
before or after a cutoff (the fit labels use it).

Sizes tried are distinct ``size`` labels (``distinct_bra_sizes``: those bought with a
band and cup), distinct bands and distinct cups (case-blind).

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
from features.contract.schema import BRA_BANDS
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
    w = window_days
    # Returns per line first, then the lines bought, each with its returns.
    past = returns.filter(returns.ts < cutoff)
    recent = past.ts >= cutoff - dt.timedelta(days=window_days)
    fit = past.reason.isin(["too_small", "too_large"])
    per_line = past.group_by("line_id").aggregate(
        r_all=past.quantity.sum(),
        r_fit=past.quantity.sum(where=fit),
        r_recent=past.quantity.sum(where=recent),
        r_recent_fit=past.quantity.sum(where=recent & fit),
        r_recent_small=past.quantity.sum(where=recent & (past.reason == "too_small")),
        r_recent_large=past.quantity.sum(where=recent & (past.reason == "too_large")),
    )
    lines = purchased_lines(tables, cutoff)
    lines = lines.left_join(per_line, "line_id").drop("line_id_right")
    lines = lines.mutate(cup=lines.cup.upper())
    returned = [c for c in per_line.columns if c != "line_id"]
    # One pass over the lines: per customer and size (label, band, cup), then per customer;
    # the distinct counts then run over the few sizes a customer bought, not her lines.
    sizes = lines.group_by([KEY, "size", "band", "cup"]).aggregate(
        units=lines.quantity.sum(),
        n=lines.count(),
        n_kept=lines.count(where=lines.r_all.isnull()),
        **{c: lines[c].sum() for c in returned},
    )
    g = sizes
    bra = g.band.notnull() & g.cup.notnull()
    vol = cup_volume(g.band, g.cup)
    per_customer = g.group_by(KEY).aggregate(
        units_bought=g.units.sum(),
        returns_lifetime=g.r_all.sum(),
        fit_returns_lifetime=g.r_fit.sum(),
        **{
            f"returns_{w}d": g.r_recent.sum(),
            f"fit_returns_{w}d": g.r_recent_fit.sum(),
            f"too_small_returns_{w}d": g.r_recent_small.sum(),
            f"too_large_returns_{w}d": g.r_recent_large.sum(),
        },
        distinct_sizes=g.size.nunique(),
        distinct_bands=g.band.nunique(),
        distinct_cups=g.cup.nunique(),
        distinct_bra_sizes=g.size.nunique(where=bra),
        vol_bought=safe_ratio((vol * g.n).sum(where=bra), g.n.sum(where=bra)),
        vol_kept=safe_ratio((vol * g.n_kept).sum(where=bra), g.n_kept.sum(where=bra)),
    )
    counts = [
        c for c in reasons(window_days=w) if c not in ("return_rate", "cup_volume_drift_steps")
    ]
    t = attach(pop, per_customer, fill={c: 0 for c in counts})
    out = {c: f64(t[c]) for c in counts}
    out["return_rate"] = safe_ratio(t.returns_lifetime, t.units_bought)
    out["cup_volume_drift_steps"] = t.vol_kept - t.vol_bought
    return t.select(KEY, **{c: out[c] for c in reasons(window_days=w)})
