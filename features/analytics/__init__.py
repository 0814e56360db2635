"""Journey analytics and commercial KPIs: pure functions over canonical Ibis tables.

Every function takes canonical tables (see :mod:`features.contract.schema`) and keyword
options, never changes its input, and raises :class:`~features.errors.EmptyResultError`
when there is nothing to compute on. Row-level tables (journeys) stay lazy Ibis
expressions; aggregates come back as small pandas frames sorted deterministically.

- :mod:`.journeys`: journeys per customer and the customer's plan;
- :mod:`.paths`: page counts and presence, transitions, n-grams, positions, funnels;
- :mod:`.markov`: first-order Markov removal effects toward a target page;
- :mod:`.kpis`: revenue, AOV, first orders, promo one-timers, reorder retention, cohorts.
"""

from features.analytics.journeys import assign_plans, build_journeys, list_pages
from features.analytics.kpis import (
    Share,
    build_cohort_retention,
    compute_aov,
    compute_aov_by,
    compute_reorder_retention,
    count_converted_sessions,
    count_promo_first_orders_never_reordered,
    roll_revenue,
    share_first_order_within,
    sum_revenue_by,
)
from features.analytics.markov import RemovalEffects, compute_removal_effects
from features.analytics.paths import (
    JourneySummary,
    count_funnel,
    count_ngrams,
    count_page_presence,
    count_pages,
    count_transitions,
    measure_page_positions,
    summarize_journeys,
)

__all__ = [
    "JourneySummary",
    "RemovalEffects",
    "Share",
    "assign_plans",
    "build_cohort_retention",
    "build_journeys",
    "compute_aov",
    "compute_aov_by",
    "compute_removal_effects",
    "compute_reorder_retention",
    "count_converted_sessions",
    "count_funnel",
    "count_ngrams",
    "count_page_presence",
    "count_pages",
    "count_promo_first_orders_never_reordered",
    "count_transitions",
    "list_pages",
    "measure_page_positions",
    "roll_revenue",
    "share_first_order_within",
    "sum_revenue_by",
    "summarize_journeys",
]
