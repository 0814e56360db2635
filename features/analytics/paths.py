"""Path statistics over journeys (see :func:`features.analytics.journeys.build_journeys`).

Every function reads a journeys table and returns a small pandas frame sorted with ties
broken by name, so the same data always give the same rows in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from features.analytics.journeys import check_pages
from features.errors import EmptyResultError

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class JourneySummary:
    """How many journeys and steps there are."""

    n_journeys: int
    n_pages: int

    @property
    def mean_journey_length(self) -> float:
        return self.n_pages / self.n_journeys


def _frame(expr: ir.Table, what: str) -> pd.DataFrame:
    df = expr.to_pandas()
    if df.empty:
        raise EmptyResultError(what)
    return df.reset_index(drop=True)


def _with_group(journeys: ir.Table, by: ir.Table, missing_label: str) -> tuple[ir.Table, str]:
    """``journeys`` plus ``by``'s label column; customers without a label get ``missing_label``."""
    labels = [c for c in by.columns if c != "customer_id"]
    if "customer_id" not in by.columns or len(labels) != 1:
        raise ValueError(
            f"a grouping table has customer_id and one label column; got {', '.join(by.columns)}"
        )
    (label,) = labels
    dup = by.group_by("customer_id").agg(n=by.count()).filter(lambda t: t.n > 1).count()
    if int(dup.to_pandas()):
        raise ValueError(f"a grouping table has one row per customer; {label!r} has duplicates")
    b = by.select(_cid=by.customer_id, _label=by[label].cast("string"))
    joined = journeys.left_join(b, journeys.customer_id == b._cid)
    return joined.mutate(**{label: joined._label.fill_null(missing_label)}).drop(
        "_cid", "_label"
    ), label


def summarize_journeys(journeys: ir.Table) -> JourneySummary:
    """Number of journeys and of steps; the mean length is their ratio."""
    row = journeys.aggregate(
        n_journeys=journeys.customer_id.nunique(), n_pages=journeys.count()
    ).to_pandas()
    n_journeys, n_pages = int(row.n_journeys.iloc[0]), int(row.n_pages.iloc[0])
    if n_journeys == 0:
        raise EmptyResultError("no journeys to summarize")
    return JourneySummary(n_journeys, n_pages)


def count_pages(
    journeys: ir.Table, *, by: ir.Table | None = None, missing_label: str = "(none)"
) -> pd.DataFrame:
    """Every occurrence of each page, overall or per group.

    ``by`` is a table of ``customer_id`` and one label column (e.g. from
    :func:`~features.analytics.journeys.assign_plans`). Columns: ``[label,] page, count,
    share`` where ``share`` is the page's part of all steps (in the group).
    """
    t, keys = journeys, []
    if by is not None:
        t, label = _with_group(journeys, by, missing_label)
        keys = [label]
    counts = t.group_by([*keys, "page"]).agg(count=t.count())
    total = counts["count"].sum().over(group_by=keys) if keys else counts["count"].sum().over()
    out = counts.mutate(share=counts["count"] / total)
    return _frame(
        out.order_by([*keys, ibis.desc("count"), "page"]), "no journeys to count pages in"
    )


def count_page_presence(
    journeys: ir.Table, *, by: ir.Table | None = None, missing_label: str = "(none)"
) -> pd.DataFrame:
    """How many journeys contain each page, overall or per group.

    Columns: ``[label,] page, journeys, total_journeys, share``; ``total_journeys`` counts
    the journeys (in the group) and ``share = journeys / total_journeys``.
    """
    t, keys = journeys, []
    if by is not None:
        t, label = _with_group(journeys, by, missing_label)
        keys = [label]
    present = t.group_by([*keys, "page"]).agg(journeys=t.customer_id.nunique())
    if keys:
        totals = t.group_by(keys).agg(total_journeys=t.customer_id.nunique())
        present = present.join(totals, keys)
    else:
        present = present.cross_join(t.aggregate(total_journeys=t.customer_id.nunique()))
    out = present.mutate(share=present.journeys / present.total_journeys)
    return _frame(
        out.order_by([*keys, ibis.desc("journeys"), "page"]), "no journeys to count pages in"
    )


def _leads(journeys: ir.Table, n: int) -> ir.Table:
    w = ibis.window(group_by=journeys.customer_id, order_by=journeys.step)
    return journeys.mutate(
        **{f"page_{k + 1}": journeys.page.lead(k).over(w) if k else journeys.page for k in range(n)}
    )


def count_transitions(journeys: ir.Table, *, from_page: str | None = None) -> pd.DataFrame:
    """Next-page transitions: how often ``next_page`` directly follows ``page``.

    Columns: ``page, next_page, count, share`` where ``share`` is the part of all
    transitions out of ``page``. ``from_page`` keeps the transitions out of that page.
    """
    if from_page is not None:
        check_pages(journeys, [from_page])
    t = _leads(journeys, 2).rename(next_page="page_2")
    t = t.filter(t.next_page.notnull())
    if from_page is not None:
        t = t.filter(t.page == from_page)
    counts = t.group_by(["page", "next_page"]).agg(count=t.count())
    out = counts.mutate(share=counts["count"] / counts["count"].sum().over(group_by="page"))
    return _frame(
        out.order_by(["page", ibis.desc("count"), "next_page"]),
        "no journey has two pages, so there are no transitions",
    )


def count_ngrams(
    journeys: ir.Table, *, n: int = 3, once_per_journey: bool = True, top: int | None = None
) -> pd.DataFrame:
    """The most frequent runs of ``n`` consecutive pages.

    With ``once_per_journey`` an n-gram counts at most once per journey (so ``count`` is
    a number of journeys); otherwise every occurrence counts. Columns: ``ngram`` (a tuple
    of pages) and ``count``, most frequent first, ties by pages; ``top`` keeps the first rows.
    """
    if n < 1:
        raise ValueError(f"n-grams need n >= 1, got {n}")
    cols = [f"page_{k + 1}" for k in range(n)]
    t = _leads(journeys, n)
    t = t.filter(ibis.and_(*[t[c].notnull() for c in cols]))
    if once_per_journey:
        t = t.select("customer_id", *cols).distinct()
    out = t.group_by(cols).agg(count=t.count()).order_by([ibis.desc("count"), *cols])
    if top is not None:
        out = out.limit(top)
    df = _frame(out, f"no journey has {n} pages, so there are no {n}-grams")
    return pd.DataFrame(
        {"ngram": list(df[cols].itertuples(index=False, name=None)), "count": df["count"]}
    )


def measure_page_positions(journeys: ir.Table) -> pd.DataFrame:
    """Where in a journey each page tends to come: early or late.

    The relative position of a step is ``(step + 0.5) / journey_length``: the middle of
    its slot, so 0.5 for a one-page journey, near 0 for the first page of a long journey
    and near 1 for its last. Columns: ``page, count, mean_step`` (1-based),
    ``mean_relative_position``, ``first_share``, ``last_share`` (the part of the page's
    occurrences that open or close a journey); earliest pages first.
    """
    j = journeys
    rel = (j.step.cast("float64") + 0.5) / j.journey_length
    out = j.group_by("page").agg(
        count=j.count(),
        mean_step=(j.step + 1).mean(),
        mean_relative_position=rel.mean(),
        first_share=(j.step == 0).cast("float64").mean(),
        last_share=(j.step == j.journey_length - 1).cast("float64").mean(),
    )
    return _frame(out.order_by(["mean_relative_position", "page"]), "no journeys")


def count_funnel(journeys: ir.Table, pages: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """How many journeys reach ``pages[0]``, then later ``pages[1]``, and so on, in order.

    Steps need not be adjacent: a journey reaches step k when it has ``pages[k]`` at a
    step after the one where it reached step k-1 (taking the earliest such step). Columns:
    ``step`` (1-based), ``page``, ``journeys``, ``share_of_journeys`` (of all journeys) and
    ``share_of_previous`` (of the journeys that reached the previous step).
    """
    if not pages:
        raise ValueError("a funnel needs at least one page")
    check_pages(journeys, list(pages))
    total = summarize_journeys(journeys).n_journeys
    reached: ir.Table | None = None
    counts: list[int] = []
    for page in pages:
        hits = journeys.filter(journeys.page == page).select("customer_id", "step")
        if reached is not None:
            hits = hits.join(reached.rename(_prev_step="step"), "customer_id")
            hits = hits.filter(hits.step > hits._prev_step)
        reached = hits.group_by("customer_id").agg(step=hits.step.min())
        counts.append(int(reached.count().to_pandas()))
    previous = [total, *counts[:-1]]
    return pd.DataFrame(
        {
            "step": range(1, len(pages) + 1),
            "page": list(pages),
            "journeys": counts,
            "share_of_journeys": [c / total for c in counts],
            "share_of_previous": [
                c / p if p else 0.0 for c, p in zip(counts, previous, strict=True)
            ],
        }
    )
