"""Markov-chain removal effects: how much each page contributes to reaching a target page.

Each journey becomes a path ``start -> page -> ... -> conversion`` when it reaches the
target page (cut at its first occurrence, which is the conversion), or
``start -> page -> ... -> null`` when it does not. Counting every transition gives a
first-order chain with the absorbing states ``conversion`` and ``null``. The conversion
probability is the chance of absorbing in ``conversion`` from ``start``. Removing a page
sends everything that entered it to ``null``; its removal effect is the relative drop
``1 - p_without_page / p``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from features.analytics.journeys import check_pages
from features.errors import EmptyResultError

if TYPE_CHECKING:
    import ibis.expr.types as ir

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


@dataclass(frozen=True)
class RemovalEffects:
    """The chain's conversion probability and each page's removal effect.

    ``effects`` has columns ``page, removal_effect`` (relative drop in conversion
    probability when the page is removed), ``share`` (removal effects normalised to sum
    to 1, the usual attribution) and ``conversion_probability_without``; largest first.
    ``transitions`` holds the chain's counts: ``from_state, to_state, count``.
    """

    target_page: str
    conversion_probability: float
    effects: pd.DataFrame
    transitions: pd.DataFrame


def count_chain_transitions(journeys: ir.Table, target_page: str) -> pd.DataFrame:
    """Transition counts of the chain described in the module docstring.

    Columns ``from_state, to_state, count``; the states are pages plus :data:`START`,
    :data:`CONVERSION` and :data:`NULL`.
    """
    j = journeys
    first_hit = ibis.cases((j.page == target_page, j.step), else_=ibis.null("int64")).min()
    j = j.mutate(_cut=first_hit.over(group_by=j.customer_id))
    path = j.filter(j._cut.isnull() | (j.step < j._cut))
    w = ibis.window(group_by=path.customer_id, order_by=path.step)
    end = ibis.ifelse(path._cut.isnull(), ibis.literal(NULL), ibis.literal(CONVERSION))
    steps = path.select(
        from_state=path.page,
        to_state=path.page.lead().over(w).fill_null(end),
    )
    # A journey that opens on the target page converts straight from the start.
    starts = j.filter(j.step == 0).select(
        from_state=ibis.literal(START),
        to_state=ibis.ifelse(j.page == target_page, ibis.literal(CONVERSION), j.page),
    )
    both = steps.union(starts, distinct=False)
    counts = both.group_by(["from_state", "to_state"]).agg(count=both.count())
    df = counts.order_by(["from_state", "to_state"]).to_pandas()
    if df.empty:
        raise EmptyResultError("no journeys to build a Markov chain from")
    return df


def conversion_probability(transitions: pd.DataFrame, *, removed: str | None = None) -> float:
    """Probability of absorbing in :data:`CONVERSION` from :data:`START`.

    Solves ``(I - Q) x = r`` over the transient states, where ``Q`` holds transient to
    transient probabilities and ``r`` the probabilities into conversion. A ``removed``
    state keeps ``x = 0``: whatever enters it is lost.
    """
    states = sorted(set(transitions.from_state) - {CONVERSION, NULL})
    index = {s: i for i, s in enumerate(states)}
    n = len(states)
    q = np.zeros((n, n))
    r = np.zeros(n)
    totals = transitions.groupby("from_state")["count"].sum()
    for f, t, c in transitions[["from_state", "to_state", "count"]].itertuples(index=False):
        if f == removed:
            continue
        p = c / totals[f]
        if t == CONVERSION:
            r[index[f]] += p
        elif t != NULL and t != removed:
            q[index[f], index[t]] += p
    x = np.linalg.solve(np.eye(n) - q, r)
    return float(x[index[START]])


def compute_removal_effects(journeys: ir.Table, *, target_page: str) -> RemovalEffects:
    """Removal effect of every page on reaching ``target_page``.

    Raises
    ------
    UnknownValueError
        When no journey has ``target_page`` (the message lists the pages).
    EmptyResultError
        When there are no journeys, or no page other than the target to remove.
    """
    check_pages(journeys, [target_page])
    transitions = count_chain_transitions(journeys, target_page)
    base = conversion_probability(transitions)
    pages = sorted(set(transitions.from_state) - {START})
    if not pages:
        raise EmptyResultError(f"every journey opens on {target_page!r}, so no page can be removed")
    without = [conversion_probability(transitions, removed=p) for p in pages]
    effects = pd.DataFrame(
        {
            "page": pages,
            "removal_effect": [1 - w / base for w in without],
            "conversion_probability_without": without,
        }
    )
    total = effects.removal_effect.sum()
    effects["share"] = effects.removal_effect / total if total > 0 else 0.0
    effects = effects.sort_values(["removal_effect", "page"], ascending=[False, True])
    return RemovalEffects(
        target_page=target_page,
        conversion_probability=base,
        effects=effects[
            ["page", "removal_effect", "share", "conversion_probability_without"]
        ].reset_index(drop=True),
        transitions=transitions,
    )
