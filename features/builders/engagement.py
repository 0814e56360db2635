"""Engagement: sessions, page views and active days over rolling windows, days since last visit.

Point in time: uses events with ``ts < cutoff`` only. A window of ``w`` days is
``[cutoff - w days, cutoff)``. A session counts in a window when it starts there (its
first event, ``seq = 1``, is in the window); this needs no pass over sessions. An active
day is a 24-hour block ``[cutoff - k days, cutoff - (k - 1) days)`` with at least one
event; for a midnight cutoff these are calendar days.

Every customer with ``signup_ts < cutoff`` gets a row: counts are 0 without events and
``days_since_last_visit`` is null.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from features.builders._common import (
    KEY,
    as_cutoff,
    attach,
    day_index,
    days_before,
    f64,
    population,
    require,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

DESCRIPTION = "Visits: sessions, page views and active days over rolling windows, and recency of the last visit."


def reasons(*, windows_days: Sequence[int]) -> dict[str, str]:
    """Feature name -> plain-language template (``{value}`` is the feature value)."""
    out = {
        "sessions_lifetime": "{value:.0f} visits in total",
        "days_since_last_visit": "no visit in {value:.0f} days",
    }
    for w in windows_days:
        out[f"sessions_{w}d"] = f"{{value:.0f}} visits in the last {w} days"
        out[f"page_views_{w}d"] = f"{{value:.0f}} page views in the last {w} days"
        out[f"active_days_{w}d"] = f"active on {{value:.0f}} of the last {w} days"
    return out


def build_engagement(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime | dt.date,
    *,
    windows_days: Sequence[int],
) -> ir.Table:
    """Engagement features, one row per customer signed up before ``cutoff``.

    Uses events with ``ts < cutoff`` only; an event at the cutoff belongs to the future.

    Parameters
    ----------
    tables
        Canonical tables; needs ``customers`` and ``events``.
    cutoff
        Naive UTC instant; a date means its midnight.
    windows_days
        Rolling windows for ``sessions_<w>d``, ``page_views_<w>d``, ``active_days_<w>d``.
    """
    cutoff = as_cutoff(cutoff)
    pop = population(tables, cutoff)
    (events,) = require(tables, "events")
    past = events.filter(events.ts < cutoff)
    # One pass over the events: per customer and day block, then per customer.
    days = past.group_by([KEY, day_index(past.ts, cutoff).name("day")]).aggregate(
        sessions=past.count(where=past.seq == 1),
        page_views=past.count(where=past.event_type == "page_view"),
        last_ts=past.ts.max(),
    )
    within = {w: days.day <= w for w in windows_days}
    by_days = days.group_by(KEY).aggregate(
        last_ts=days.last_ts.max(),
        sessions_lifetime=days.sessions.sum(),
        **{f"sessions_{w}d": days.sessions.sum(where=within[w]) for w in windows_days},
        **{f"page_views_{w}d": days.page_views.sum(where=within[w]) for w in windows_days},
        **{f"active_days_{w}d": days.count(where=within[w]) for w in windows_days},
    )
    counts = [c for c in by_days.columns if c not in (KEY, "last_ts")]
    t = attach(pop, by_days, fill={c: 0 for c in counts})
    out: dict[str, ir.Value] = {
        "sessions_lifetime": f64(t.sessions_lifetime),
        "days_since_last_visit": days_before(t.last_ts, cutoff),
    }
    for w in windows_days:
        for stem in ("sessions", "page_views", "active_days"):
            out[f"{stem}_{w}d"] = f64(t[f"{stem}_{w}d"])
    return t.select(KEY, **out)
