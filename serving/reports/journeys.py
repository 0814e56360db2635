"""The journey report: path analytics over the warehouse's page events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from features.analytics import (
    assign_plans,
    build_journeys,
    compute_removal_effects,
    count_funnel,
    count_ngrams,
    count_page_presence,
    count_pages,
    count_transitions,
    measure_page_positions,
    summarize_journeys,
)
from features.errors import EmptyResultError, UnknownValueError
from serving.reports import figures
from serving.reports.html import Figure, Report, Section, table_from_frame

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from features.config import JourneyAnalyticsParams

STEPS = (
    "journeys",
    "pages",
    "plans",
    "transitions",
    "n-grams",
    "positions",
    "funnel",
    "removal effects",
)
_PCT, _INT = ".1%", ","


def _plans(tables: Mapping[str, ir.Table], rule: str) -> ir.Table:
    empty = ibis.memtable(
        pa.table({"customer_id": pa.array([], pa.string()), "plan": pa.array([], pa.string())})
    )
    if "subscriptions" not in tables:
        return empty
    try:
        return assign_plans(tables["subscriptions"], rule=rule)  # type: ignore[arg-type]
    except EmptyResultError:
        return empty


def build_journey_report(
    tables: Mapping[str, ir.Table],
    options: JourneyAnalyticsParams,
    *,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Compute every journey figure and lay them out; ``progress`` hears each of :data:`STEPS`.

    Raises :class:`EmptyResultError` when there are no page events. A funnel or target page
    the data lack does not stop the report: that section says so and lists the pages.
    """
    tick = progress or (lambda _: None)
    if "events" not in tables:
        raise EmptyResultError("the warehouse has no events table, so there are no journeys")
    o = options
    tick("journeys")
    journeys = build_journeys(
        tables["events"], session_rule=o.session_rule, target_page=o.target_page
    ).cache()
    summary = summarize_journeys(journeys)
    rule = (
        "all sessions"
        if o.session_rule == "all"
        else f"sessions up to the first that reaches {o.target_page}"
    )
    data: dict[str, object] = {
        "session_rule": o.session_rule,
        "n_journeys": summary.n_journeys,
        "n_pages": summary.n_pages,
        "mean_journey_length": summary.mean_journey_length,
    }
    warnings: list[str] = []
    sections = [
        Section(
            "Journeys",
            "summary",
            intro=f"A journey is a customer's page views over {rule}, in time order, "
            "with consecutive repeats of a page collapsed.",
            facts=[
                ("journeys", f"{summary.n_journeys:,}"),
                ("pages in all journeys", f"{summary.n_pages:,}"),
                ("mean journey length", f"{summary.mean_journey_length:.2f}"),
            ],
        )
    ]

    tick("pages")
    presence = count_page_presence(journeys)
    counts = count_pages(journeys)
    data["page_presence"] = dict(zip(presence.page, presence.journeys, strict=True))
    data["page_count"] = dict(zip(counts.page, counts["count"], strict=True))
    pages = presence.merge(counts.rename(columns={"share": "step_share"}), on="page")
    sections.append(
        Section(
            "Page presence and counts",
            "pages",
            figures=[
                Figure(
                    "Journeys that contain each page",
                    figures.bar_chart(
                        presence.page.tolist(),
                        presence.journeys.tolist(),
                        title="Journeys that contain each page",
                        xlabel="journeys",
                    ),
                )
            ],
            tables=[
                table_from_frame(
                    pages[["page", "journeys", "share", "count", "step_share"]],
                    formats={"journeys": _INT, "share": _PCT, "count": _INT, "step_share": _PCT},
                    labels={
                        "journeys": "journeys with page",
                        "share": "of journeys",
                        "count": "occurrences",
                        "step_share": "of all steps",
                    },
                )
            ],
        )
    )

    tick("plans")
    by_plan = count_page_presence(
        journeys, by=_plans(tables, o.plan_rule), missing_label=o.no_plan_label
    )
    # A plan whose journeys never show a page has share 0 for it, not a missing value.
    matrix = (
        by_plan.pivot(index="page", columns="plan", values="share")
        .reindex(presence.page)
        .fillna(0.0)
    )
    data["presence_share_by_plan"] = {plan: matrix[plan].to_dict() for plan in matrix.columns}
    plan_sizes = by_plan.groupby("plan").total_journeys.first()
    matrix.columns = [f"{p} ({plan_sizes[p]:,})" for p in matrix.columns]
    sections.append(
        Section(
            "Page presence by plan",
            "plans",
            intro=f"Share of each plan's journeys that contain the page; a customer's plan is "
            f"their {o.plan_rule} subscription's. Customers without one are "
            f"'{o.no_plan_label}'. Column headers give the number of journeys.",
            figures=[
                Figure(
                    "Page presence by plan",
                    figures.heatmap(matrix, title="Share of journeys containing the page"),
                )
            ],
        )
    )

    tick("transitions")
    transitions = count_transitions(journeys)
    data["next_page"] = {
        page: dict(zip(g.next_page, g["count"], strict=True))
        for page, g in transitions.groupby("page")
    }
    top_pages = counts.head(o.graph_pages)
    shown = transitions[
        transitions.page.isin(top_pages.page) & transitions.next_page.isin(top_pages.page)
    ]
    shown = shown.sort_values(["count", "page", "next_page"], ascending=[False, True, True])
    sections.append(
        Section(
            "Next-page transitions",
            "transitions",
            intro=f"The {len(top_pages)} most visited pages and the {o.graph_edges} most "
            "frequent transitions between them; arrow width is the number of transitions.",
            figures=[
                Figure(
                    "Transition graph",
                    figures.transition_graph(
                        list(zip(top_pages.page, top_pages["count"], strict=True)),
                        list(
                            shown.head(o.graph_edges)[["page", "next_page", "count"]].itertuples(
                                index=False, name=None
                            )
                        ),
                        title="Page to next page",
                    ),
                )
            ],
            tables=[
                table_from_frame(
                    transitions.sort_values(
                        ["count", "page", "next_page"], ascending=[False, True, True]
                    ),
                    title="Most frequent transitions",
                    formats={"count": _INT, "share": _PCT},
                    labels={"share": "of transitions out of page"},
                    max_rows=o.top_n * 2,
                )
            ],
        )
    )

    tick("n-grams")
    ngrams = count_ngrams(
        journeys, n=o.ngram_n, once_per_journey=o.ngram_once_per_journey, top=o.top_n
    )
    data["ngram_n"] = o.ngram_n
    data["top_ngrams"] = [
        [list(g), int(c)] for g, c in zip(ngrams.ngram, ngrams["count"], strict=True)
    ]
    per = "journeys containing it" if o.ngram_once_per_journey else "occurrences"
    sections.append(
        Section(
            f"Top {o.ngram_n}-page sequences",
            "ngrams",
            tables=[
                table_from_frame(
                    ngrams, formats={"count": _INT}, labels={"ngram": "pages", "count": per}
                )
            ],
        )
    )

    tick("positions")
    positions = measure_page_positions(journeys)
    data["page_position"] = dict(zip(positions.page, positions.mean_relative_position, strict=True))
    sections.append(
        Section(
            "Where pages come in a journey",
            "positions",
            intro="Relative position 0 is the start of a journey and 1 its end; each step "
            "counts at the middle of its slot.",
            tables=[
                table_from_frame(
                    positions,
                    formats={
                        "count": _INT,
                        "mean_step": ".2f",
                        "mean_relative_position": ".2f",
                        "first_share": _PCT,
                        "last_share": _PCT,
                    },
                    labels={
                        "count": "occurrences",
                        "mean_relative_position": "mean relative position",
                        "first_share": "opens the journey",
                        "last_share": "closes the journey",
                    },
                )
            ],
        )
    )

    tick("funnel")
    funnel_section = Section("Funnel", "funnel")
    try:
        funnel = count_funnel(journeys, o.funnel_pages)
    except UnknownValueError as err:
        funnel_section.notes.append(f"No funnel: {err}")
        warnings.append(f"funnel: {err}")
    else:
        data["funnel"] = funnel.to_dict(orient="records")
        funnel_section.intro = "Journeys that reach each page after the previous one."
        funnel_section.figures.append(
            Figure(
                "Funnel",
                figures.funnel_chart(
                    funnel.page.tolist(), funnel.journeys.tolist(), title="Funnel"
                ),
            )
        )
        funnel_section.tables.append(
            table_from_frame(
                funnel,
                formats={"journeys": _INT, "share_of_journeys": _PCT, "share_of_previous": _PCT},
            )
        )
    sections.append(funnel_section)

    tick("removal effects")
    markov_section = Section(f"Markov removal effects toward {o.target_page}", "markov")
    try:
        effects = compute_removal_effects(journeys, target_page=o.target_page)
    except (UnknownValueError, EmptyResultError) as err:
        markov_section.notes.append(f"No removal effects: {err}")
        warnings.append(f"removal effects: {err}")
    else:
        data["conversion_probability"] = effects.conversion_probability
        data["removal_effect"] = dict(
            zip(effects.effects.page, effects.effects.removal_effect, strict=True)
        )
        markov_section.intro = (
            "First-order Markov chain from start to conversion (reaching "
            f"{o.target_page}) or null. A page's removal effect is the relative drop in "
            "conversion probability when everything entering it is lost."
        )
        markov_section.facts.append(
            ("chain conversion probability", f"{effects.conversion_probability:.1%}")
        )
        markov_section.figures.append(
            Figure(
                "Removal effects",
                figures.bar_chart(
                    effects.effects.page.tolist(),
                    effects.effects.removal_effect.tolist(),
                    title="Removal effect",
                    value_format=".1%",
                ),
            )
        )
        markov_section.tables.append(
            table_from_frame(
                effects.effects,
                formats={
                    "removal_effect": _PCT,
                    "share": _PCT,
                    "conversion_probability_without": _PCT,
                },
            )
        )
    sections.append(markov_section)
    data["target_page"] = o.target_page
    return Report(
        kind="journeys",
        title="Customer journeys",
        subtitle=f"{summary.n_journeys:,} journeys over {rule}",
        sections=sections,
        data=data,
        warnings=warnings,
    )
