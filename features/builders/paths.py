"""Journey paths: key pages, early pricing/membership, path length, abandonment, transitions.

Point in time: uses events with ``ts < cutoff`` only, and of those the ones in the path
window ``[cutoff - window_days, cutoff)``. A session's events are ordered by ``seq``
(unique within a session, so the order is deterministic).

Definitions:

- page names compare normalized: lowercase, spaces and hyphens as underscores;
- ``<key>_views_<P>d``: events on any page listed for ``key`` in ``params.yaml``;
  ``key_pages_seen_<P>d``: how many of the key pages were seen at all;
- ``early_<key>_sessions_<P>d``: sessions in which a ``key`` page is among the session's
  first ``early_events`` events (``seq <= early_events``);
- path length: events per session within the window (mean and max);
- a checkout session has an event of type ``checkout`` or on a ``checkout`` key page; it is
  abandoned when the session has no ``purchase`` event before the cutoff;
- ``<from>_to_<to>_<P>d``: consecutive events of a session (``seq`` and ``seq + 1``,
  both in the window) on the one page and then the other. Sequence numbers are positions
  in the session, so this is a join, not a window function (which engines sort for).

Every customer with ``signup_ts < cutoff`` gets a row: counts are 0 without events in
the window and the path-length features are null.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis

from features.builders._common import (
    KEY,
    as_cutoff,
    attach,
    f64,
    page_key,
    population,
    require,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

DESCRIPTION = "Where visits go: key pages, pricing or membership seen early, path length, abandoned checkouts and named page transitions."


def _names(
    window_days: int,
    pages: Mapping[str, Sequence[str]],
    early_pages: Sequence[str],
    transitions: Sequence[tuple[str, str]],
) -> dict[str, str]:
    p = f"{window_days}d"
    out = {
        f"{key}_views_{p}": f"{{value:.0f}} {key} page views in the last {window_days} days"
        for key in pages
    }
    for key in early_pages:
        out[f"early_{key}_sessions_{p}"] = (
            f"{key} seen early in {{value:.0f}} visits in the last {window_days} days"
        )
    out |= {
        f"key_pages_seen_{p}": f"saw {{value:.0f}} of the key pages in the last {window_days} days",
        f"path_length_mean_{p}": "{value:.1f} steps per visit on average",
        f"path_length_max_{p}": "longest visit {value:.0f} steps",
        f"checkout_sessions_{p}": f"reached checkout in {{value:.0f}} visits in the last {window_days} days",
        f"abandoned_checkouts_{p}": f"{{value:.0f}} abandoned checkouts in the last {window_days} days",
    }
    for a, b in transitions:
        out[f"{a}_to_{b}_{p}"] = (
            f"went from {a} to {b} {{value:.0f}} times in the last {window_days} days"
        )
    return out


def reasons(
    *,
    window_days: int,
    early_events: int,
    pages: Mapping[str, Sequence[str]],
    early_pages: Sequence[str],
    transitions: Sequence[tuple[str, str]],
) -> dict[str, str]:
    """Feature name -> plain-language template (``{value}`` is the feature value)."""
    return _names(window_days, pages, early_pages, transitions)


def _window_events(tables: Mapping[str, ir.Table], cutoff: dt.datetime, window_days: int):
    (events,) = require(tables, "events")
    start = cutoff - dt.timedelta(days=window_days)
    recent = events.filter((events.ts < cutoff) & (events.ts >= start)).select(
        KEY, "session_id", "seq", "event_type", "page"
    )
    return recent.mutate(pk=page_key(recent.page))


def _with_next_page(recent: ir.Table) -> ir.Table:
    """Every event with ``next_pk``, the page of the session's next event (seq + 1)."""
    nxt = recent.select(next_session="session_id", next_seq="seq", next_pk="pk")
    joined = recent.left_join(
        nxt, [recent.session_id == nxt.next_session, recent.seq + 1 == nxt.next_seq]
    )
    return joined.drop("next_session", "next_seq")


def build_paths(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime | dt.date,
    *,
    window_days: int,
    early_events: int,
    pages: Mapping[str, Sequence[str]],
    early_pages: Sequence[str],
    transitions: Sequence[tuple[str, str]],
) -> ir.Table:
    """Journey-path features, one row per customer signed up before ``cutoff``.

    Uses events in ``[cutoff - window_days, cutoff)`` only (so never at or after the
    cutoff). See the module docstring for every definition.

    Parameters
    ----------
    tables
        Canonical tables; needs ``customers`` and ``events``.
    cutoff
        Naive UTC instant; a date means its midnight.
    window_days, early_events, pages, early_pages, transitions
        ``features.paths`` in ``params.yaml``; page names are already normalized.
    """
    cutoff = as_cutoff(cutoff)
    pop = population(tables, cutoff)
    recent = _window_events(tables, cutoff, window_days)
    p = f"{window_days}d"
    key_pages = {key: [str(n) for n in names] for key, names in pages.items()}

    # One pass: each event with its successor's page, per session, then per customer.
    ev = _with_next_page(recent)
    checkout = (ev.event_type == "checkout") | ev.pk.isin(key_pages.get("checkout", []))
    early = ev.seq <= early_events
    moves = {(a, b): f"__move_{i}" for i, (a, b) in enumerate(transitions)}
    views = {key: f"__views_{key}" for key in key_pages}
    sessions = ev.group_by([KEY, "session_id"]).aggregate(
        length=ev.count(),
        checkout=checkout.any(),
        purchase=(ev.event_type == "purchase").any(),
        **{f"early_{k}": (ev.pk.isin(key_pages[k]) & early).any() for k in early_pages},
        **{col: ev.count(where=ev.pk.isin(key_pages[k])) for k, col in views.items()},
        **{col: ev.count(where=(ev.pk == a) & (ev.next_pk == b)) for (a, b), col in moves.items()},
    )
    by_session = sessions.group_by(KEY).aggregate(
        **{f"path_length_mean_{p}": sessions.length.mean()},
        **{f"path_length_max_{p}": sessions.length.max()},
        **{f"checkout_sessions_{p}": sessions.count(where=sessions.checkout)},
        **{
            f"abandoned_checkouts_{p}": sessions.count(where=sessions.checkout & ~sessions.purchase)
        },
        **{
            f"early_{k}_sessions_{p}": sessions.count(where=sessions[f"early_{k}"])
            for k in early_pages
        },
        **{f"{k}_views_{p}": sessions[col].sum() for k, col in views.items()},
        **{f"{a}_to_{b}_{p}": sessions[col].sum() for (a, b), col in moves.items()},
    )
    names = list(_names(window_days, pages, early_pages, transitions))
    nullable = {f"path_length_mean_{p}", f"path_length_max_{p}"}
    zeros = {c: 0 for c in names if c not in nullable}
    t = attach(pop, by_session, fill={c: v for c, v in zeros.items() if c in by_session.columns})
    seen = sum(ibis.ifelse(t[f"{k}_views_{p}"] > 0, 1, 0) for k in key_pages)
    t = t.mutate(**{f"key_pages_seen_{p}": seen})
    return t.select(KEY, **{c: f64(t[c]) for c in names})


def top_transitions(
    tables: Mapping[str, ir.Table], cutoff: dt.datetime | dt.date, *, window_days: int, n: int
) -> ir.Table:
    """The ``n`` most frequent page transitions in the path window, to choose named ones.

    Uses events in ``[cutoff - window_days, cutoff)``; ties are broken by page names.
    Self-transitions (a page reloaded) are left out.
    """
    ev = _with_next_page(_window_events(tables, as_cutoff(cutoff), window_days))
    moves = ev.filter(ev.pk.notnull() & ev.next_pk.notnull() & (ev.pk != ev.next_pk))
    counts = moves.group_by(from_page=moves.pk, to_page=moves.next_pk).aggregate(
        transitions=moves.count(), customers=moves[KEY].nunique()
    )
    return counts.order_by([ibis.desc("transitions"), "from_page", "to_page"]).limit(n)
