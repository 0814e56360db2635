"""Typed configuration loaded from ``params.yaml``.

Every tunable number and date lives in ``params.yaml``; environment-specific values
come from environment variables:

- ``JOURNEY_WAREHOUSE`` overrides ``warehouse.url``;
- ``MLFLOW_TRACKING_URI`` overrides ``mlflow.tracking_uri``;
- ``JOURNEY_SPARK_MASTER`` overrides ``spark.master``.

Relative paths in URLs (``duckdb:///data/w.duckdb``, ``sqlite:///mlflow/mlflow.db``,
SQLAlchemy style: three slashes relative, four absolute) resolve against the folder
that holds the params file, so a command gives the same result from any directory.
Nothing here runs at import time.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from features.errors import ConfigError, unknown_name_message

WAREHOUSE_ENV = "JOURNEY_WAREHOUSE"
TRACKING_ENV = "MLFLOW_TRACKING_URI"
WRITEBACK_ENV = "JOURNEY_WRITEBACK"
SPARK_MASTER_ENV = "JOURNEY_SPARK_MASTER"


class Section(BaseModel):
    """A block of params: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectParams(Section):
    seed: int = 42


class WarehouseParams(Section):
    url: str = "duckdb:///data/warehouse.duckdb"


class MlflowParams(Section):
    tracking_uri: str = "sqlite:///mlflow/mlflow.db"
    artifact_location: str = "mlflow/artifacts"
    experiment: str = "customer-journey"


class SimPopulationParams(Section):
    """Who signs up and their latent rates (per year; gamma-distributed across customers)."""

    signup_growth_per_year: float = Field(1.3, gt=0)  # signups grow by this factor a year
    channels: dict[str, float] = Field(
        default_factory=lambda: {
            "organic": 0.32,
            "paid_search": 0.22,
            "social": 0.2,
            "email": 0.08,
            "referral": 0.08,
            "affiliate": 0.1,
        }
    )
    regions: dict[str, float] = Field(
        default_factory=lambda: {"US": 0.55, "UK": 0.2, "EU": 0.15, "CA": 0.06, "AU": 0.04}
    )
    # Share of each channel's customers acquired through a promo (welcome code on order 1).
    promo_acquired: dict[str, float] = Field(
        default_factory=lambda: {
            "organic": 0.1,
            "paid_search": 0.3,
            "social": 0.45,
            "email": 0.25,
            "referral": 0.2,
            "affiliate": 0.6,
        }
    )
    app_share: float = Field(0.35, ge=0, le=1)  # mean share of a customer's sessions in the app
    order_at_signup: float = Field(0.6, ge=0, le=1)  # accounts created at first checkout
    order_rate_per_year: float = Field(2.2, gt=0)
    order_rate_shape: float = Field(3.0, gt=0)
    browse_rate_per_year: float = Field(16.0, gt=0)
    browse_rate_shape: float = Field(3.0, gt=0)
    hazard_per_year: float = Field(2.0, gt=0)  # churn hazard of an average customer
    hazard_shape: float = Field(4.0, gt=0)
    engagement_effect: float = Field(0.5, ge=0)  # hazard x (browse rate / mean) ** -effect
    promo_hazard_mult: float = Field(1.5, gt=0)
    extra_lines_mean: float = Field(0.8, ge=0)  # lines per order = 1 + Poisson(gamma mean)
    extra_lines_shape: float = Field(1.0, gt=0)
    max_lines: int = Field(8, ge=1)
    category_mix: dict[str, float] = Field(
        default_factory=lambda: {"bra": 0.4, "knickers": 0.3, "sleepwear": 0.15, "apparel": 0.15}
    )
    category_concentration: float = Field(2.0, gt=0)  # Dirichlet concentration of the mix
    promo_rate: float = Field(0.2, ge=0, le=1)  # mean share of repeat orders with a code
    promo_acquired_promo_rate: float = Field(0.5, ge=0, le=1)
    promo_rate_concentration: float = Field(4.0, gt=0)  # Beta concentration around the mean


class SimExperienceParams(Section):
    """How an order's experience moves the churn hazard and order rate (multipliers)."""

    fit_return_hazard: float = Field(1.6, gt=0)
    other_return_hazard: float = Field(1.1, gt=0)
    kept_hazard: float = Field(0.85, gt=0)
    fit_return_order_rate: float = Field(0.85, gt=0)
    member_hazard: float = Field(0.6, gt=0)
    member_order_rate: float = Field(1.4, gt=0)
    min_hazard_per_year: float = Field(0.05, gt=0)
    max_hazard_per_year: float = Field(20.0, gt=0)


class SimPlanParams(Section):
    price: float = Field(gt=0)
    period_days: int = Field(gt=0)
    share: float = Field(ge=0)


class SimMembershipParams(Section):
    join_first_order: float = Field(0.12, ge=0, le=1)
    join_repeat_order: float = Field(0.06, ge=0, le=1)
    plan_change: float = Field(0.08, ge=0, le=1)  # per order of a member: switch plans
    cancel_lag_days: float = Field(20.0, gt=0)  # mean days from churn to cancelling
    plans: dict[str, SimPlanParams] = Field(
        default_factory=lambda: {
            "Monthly": SimPlanParams(price=9.95, period_days=30, share=0.7),
            "Annual": SimPlanParams(price=79.0, period_days=365, share=0.3),
        }
    )


class SimPromoParams(Section):
    welcome_code: str = "WELCOME15"
    welcome_discount: float = Field(0.15, ge=0, lt=1)
    default_code: str = "SAVE20"
    default_discount: float = Field(0.2, ge=0, lt=1)
    # Calendar month (1-12) -> [code, discount] replacing the default that month.
    monthly: dict[int, tuple[str, float]] = Field(
        default_factory=lambda: {
            1: ("NEWYEAR20", 0.2),
            2: ("VALENTINE15", 0.15),
            7: ("SUMMER25", 0.25),
            11: ("BLACKFRIDAY30", 0.3),
            12: ("HOLIDAY25", 0.25),
        }
    )


class SimCategoryParams(Section):
    products: int = Field(gt=0)
    price_min: float = Field(gt=0)
    price_max: float = Field(gt=0)
    styles: list[str]
    multipack_share: float = Field(0.0, ge=0, le=1)  # lines with quantity 2-3


class SimCatalogParams(Section):
    style_offset_sd: float = Field(0.25, ge=0)  # size offset in size steps; + runs large
    product_offset_sd: float = Field(0.15, ge=0)
    popularity_shape: float = Field(0.7, gt=0)  # gamma shape of product popularity
    categories: dict[str, SimCategoryParams] = Field(
        default_factory=lambda: {
            "bra": SimCategoryParams(
                products=120,
                price_min=32,
                price_max=78,
                styles=["balconette", "plunge", "t-shirt", "full-cup", "bralette", "sports"],
            ),
            "knickers": SimCategoryParams(
                products=90,
                price_min=9,
                price_max=24,
                styles=["brief", "thong", "hipster", "boyshort", "high-waist"],
                multipack_share=0.3,
            ),
            "sleepwear": SimCategoryParams(
                products=50,
                price_min=30,
                price_max=85,
                styles=["pyjama-set", "chemise", "robe", "nightdress"],
            ),
            "apparel": SimCategoryParams(
                products=60,
                price_min=25,
                price_max=95,
                styles=["lounge-set", "legging", "tee", "bodysuit", "slip-dress"],
            ),
        }
    )


class SimSizeParams(Section):
    """True sizes and the size customers believe they are (errors in size steps)."""

    band_mean: float = 35.0  # inches; steps of 2
    band_sd: float = Field(3.2, gt=0)
    cup_mean: float = 3.4  # index into AA..H (3 = C)
    cup_sd: float = Field(1.6, gt=0)
    alpha_band_slope: float = 0.45  # alpha steps per band step
    alpha_cup_slope: float = 0.15
    alpha_sd: float = Field(0.45, gt=0)
    band_error: list[float] = Field(default_factory=lambda: [0.12, 0.6, 0.28])  # -1, 0, +1
    cup_error: list[float] = Field(default_factory=lambda: [0.04, 0.28, 0.42, 0.2, 0.06])  # -2..2
    alpha_error: list[float] = Field(default_factory=lambda: [0.15, 0.65, 0.2])  # -1, 0, +1


class SimFitParams(Section):
    """Ordinal fit model: latent gap + offset + logistic noise against two thresholds."""

    band_weight: float = Field(0.8, ge=0)  # a band step weighs this much against a cup step
    threshold: float = Field(0.7, gt=0)
    noise_scale: float = Field(0.25, gt=0)
    return_if_misfit: float = Field(0.7, ge=0, le=1)
    style_return: float = Field(0.07, ge=0, le=1)
    quality_return: float = Field(0.03, ge=0, le=1)
    other_return: float = Field(0.02, ge=0, le=1)
    feedback_rate: float = Field(0.25, ge=0, le=1)  # kept lines that carry fit_feedback
    return_lag_days: float = Field(12.0, gt=0)
    learn_on_misfit: float = Field(0.6, ge=0, le=1)  # move one step toward the true size
    size_guide_first: float = Field(0.3, ge=0, le=1)  # purchase sessions visiting the guide
    size_guide_repeat: float = Field(0.1, ge=0, le=1)
    size_guide_correct: float = Field(0.5, ge=0, le=1)  # the guide gives the true size


class SimSessionParams(Section):
    """Page Markov chain (rows: page -> {next page or exit: weight}) and session timing."""

    max_pages: int = Field(30, ge=4)
    event_gap_seconds: float = Field(40.0, gt=0)
    login_share: float = Field(0.3, ge=0, le=1)
    sources: dict[str, float] = Field(
        default_factory=lambda: {
            "direct": 0.3,
            "organic": 0.25,
            "email": 0.2,
            "paid_search": 0.1,
            "social": 0.15,
        }
    )
    start: dict[str, float] = Field(
        default_factory=lambda: {"home": 0.45, "category": 0.25, "product": 0.2, "search": 0.1}
    )
    transitions: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "home": {
                "category": 0.4,
                "search": 0.12,
                "product": 0.15,
                "membership": 0.04,
                "pricing": 0.03,
                "support": 0.02,
                "returns": 0.02,
                "exit": 0.22,
            },
            "search": {"product": 0.55, "category": 0.15, "search": 0.1, "exit": 0.2},
            "category": {
                "product": 0.55,
                "category": 0.15,
                "home": 0.05,
                "search": 0.05,
                "exit": 0.2,
            },
            "product": {
                "product": 0.3,
                "category": 0.15,
                "size_guide": 0.07,
                "cart": 0.1,
                "home": 0.05,
                "exit": 0.33,
            },
            "size_guide": {"product": 0.7, "category": 0.1, "exit": 0.2},
            "pricing": {"membership": 0.3, "home": 0.2, "category": 0.2, "exit": 0.3},
            "membership": {"pricing": 0.25, "category": 0.25, "home": 0.15, "exit": 0.35},
            "cart": {"checkout": 0.45, "product": 0.2, "category": 0.1, "exit": 0.25},
            "checkout": {"cart": 0.15, "exit": 0.85},
            "returns": {"support": 0.3, "home": 0.2, "exit": 0.5},
            "support": {"returns": 0.2, "home": 0.2, "exit": 0.6},
        }
    )


class SimulateParams(Section):
    """The simulated direct-to-consumer apparel and intimates brand (see features.simulate)."""

    customers: int = Field(20_000, gt=0)
    seed: int = 7
    start: dt.date = dt.date(2023, 1, 1)
    end: dt.date = dt.date(2025, 12, 31)  # inclusive
    # Demand by calendar month (Jan..Dec), relative; orders, visits and signups follow it.
    seasonality: list[float] = Field(
        default_factory=lambda: [0.9, 0.85, 0.9, 0.95, 1.0, 0.95, 0.95, 0.9, 0.95, 1.0, 1.35, 1.5],
        min_length=12,
        max_length=12,
    )
    population: SimPopulationParams = SimPopulationParams()
    experience: SimExperienceParams = SimExperienceParams()
    membership: SimMembershipParams = SimMembershipParams()
    promo: SimPromoParams = SimPromoParams()
    catalog: SimCatalogParams = SimCatalogParams()
    sizes: SimSizeParams = SimSizeParams()
    fit: SimFitParams = SimFitParams()
    sessions: SimSessionParams = SimSessionParams()


class ValidationParams(Section):
    # A load whose share of quarantined rows in any table exceeds this is refused: it is
    # almost always a mapping mistake, not bad rows.
    max_quarantine_share: float = Field(0.5, ge=0, le=1)
    # Timestamps later than load time plus this skew are quarantined as "in the future".
    future_skew_hours: float = Field(24.0, ge=0)


class SizeParams(Section):
    """The size recommender (models.size_recommender) and its 1-LV baseline."""

    # Prior spread of item (product or style) size offsets, in size steps.
    item_prior_sd: float = Field(0.5, gt=0)
    # How band and cup-volume gaps make a bra's outcome: "sum" (weighted sum) or "both".
    bra_link: Literal["sum", "both"] = "sum"
    # Customers are modelled to buy within this many grid steps of their own size.
    choice_window: int = Field(2, ge=1, le=4)
    # Added to every count of the population size prior and of the choice histogram.
    pseudocount: float = Field(1.0, gt=0)
    # Floor of the fitted rate of picks made afresh rather than from her previous pick.
    min_fresh_rate: float = Field(0.02, ge=0, lt=1)
    # The events' page name of the size guide: an order whose session viewed it is a guided
    # pick (features.fit_outcomes.size_guide_orders). None: no size-guide evidence.
    guide_page: str | None = "size_guide"
    n_em_iter: int = Field(50, ge=1)
    tol: float = Field(1e-5, gt=0)
    max_iter: int = Field(30, ge=1)  # L-BFGS iterations per M-step
    baseline_1lv_l2: float = Field(1.0, gt=0)  # prior precision of the 1-LV latents
    # L-BFGS iterations of the 1-LV fit: 200 gives the converged test AUC to 1e-4 in a fifth of the time
    baseline_1lv_max_iter: int = Field(200, gt=0)
    # A line ordered this close before a cutoff and not returned yet may still come back.
    return_window_days: float = Field(30.0, ge=0)
    # The out-of-time split is the shared one (``training``): fit on what was known at the
    # test cutoff, test on orders in [test cutoff, + labels.horizon_days). The registered
    # model is then refitted on every known outcome, unless this is false.
    refit_on_all_data: bool = True
    # benchmarks/size: the LightGBM second stage learns on the orders of the last
    # stage2_window_days before the test cutoff, from a latent fit on the orders before.
    stage2_window_days: int = Field(180, ge=1)


class SourceParams(Section):
    """One input of a mapped dataset: a file, glob or folder, or SQL over other sources.

    ``file`` is relative to the folder given to ``journey load``. CSV is read with every
    column as text, so that the validator reports a wrongly typed value with its raw
    text; Parquet arrives typed. ``sql`` derives a source from earlier ones, which it
    names in braces (``SELECT ... FROM {sessions}``); it must keep ``_row`` and
    ``_source`` so that every row still points at its file line.
    """

    file: str | None = None
    sql: str | None = None
    format: Literal["csv", "parquet"] | None = None  # from the extension when omitted
    # Passed to DuckDB's CSV reader: delim, header, skip, quote, columns...
    options: dict[str, Any] = Field(default_factory=dict)
    # {column: SQL condition every row must meet}; the first failing row is an error
    # naming the file, row, column and value (for values a row's shape depends on).
    checks: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _file_or_sql(self) -> SourceParams:
        if (self.file is None) == (self.sql is None):
            raise ValueError("give exactly one of 'file' and 'sql'")
        if self.sql is not None and (self.format or self.options):
            raise ValueError("'format' and 'options' apply to files, not to 'sql' sources")
        return self


class TableMapping(Section):
    """How one canonical table is built from a source: SQL expressions over its columns.

    ``columns`` maps each contract column to a DuckDB SQL expression over the source's
    columns (a bare column name is the simplest). With ``group_by`` the expressions are
    aggregates, one row per group. ``where`` keeps only the source rows it is true for.
    ``formats`` gives a strptime format for timestamp columns held as text
    (``{ts: "%m/%d/%Y %H:%M"}``); a value that does not match is quarantined as
    unparseable. ``earliest(text, format)`` is an aggregate for grouped tables: the
    earliest time in the group, as text in that format.
    """

    source: str
    columns: dict[str, str]
    group_by: list[str] = Field(default_factory=list)
    where: str | None = None
    formats: dict[str, str] = Field(default_factory=dict)


class DatasetMapping(Section):
    """A dataset brought by configuration alone: sources and per-table column mappings."""

    description: str = ""
    sources: dict[str, SourceParams]
    tables: dict[str, TableMapping]


class LoadersParams(Section):
    mappings: dict[str, DatasetMapping] = Field(default_factory=dict)
    # The 365 data has no timestamps; its adapter orders events from this anchor (see README).
    journey365_anchor: dt.datetime = dt.datetime(2022, 1, 1)


class Gate(Section):
    """Bounds a logged metric must meet for a model to be registered."""

    min: float | None = None
    max: float | None = None


class PromotionParams(Section):
    """The metric on which a challenger must beat the champion, on the same test window."""

    metric: str
    higher_is_better: bool = True


class RegistryParams(Section):
    # {model: {metric: {min|max}}}; include "<metric>_vs_baseline" gates so that a model
    # that does not beat its run's baseline is not registered.
    gates: dict[str, dict[str, Gate]] = Field(default_factory=dict)
    promotion: dict[str, PromotionParams] = Field(default_factory=dict)


class JourneyAnalyticsParams(Section):
    """Journey (path) analytics over page events (see features.analytics)."""

    # Which of a customer's sessions make up their journey: "all", or "until_target" =
    # sessions up to and including the first that reaches target_page (customers who never
    # reach it keep all their sessions).
    session_rule: Literal["all", "until_target"] = "all"
    target_page: str = "Checkout"
    ngram_n: int = Field(default=3, ge=2)
    # Count an n-gram at most once per journey (the 365 case study) or every time it occurs.
    ngram_once_per_journey: bool = True
    top_n: int = Field(default=10, gt=0)
    funnel_pages: list[str] = Field(
        default_factory=lambda: ["Homepage", "Pricing", "Checkout"], min_length=1
    )
    # A customer's plan is their first subscription's plan (by start_ts) or their latest's.
    plan_rule: Literal["first", "latest"] = "first"
    # Group label for customers without a subscription, so that they are counted, not dropped.
    no_plan_label: str = "(no plan)"
    graph_pages: int = Field(default=10, ge=2)
    graph_edges: int = Field(default=25, gt=0)


class KpiParams(Section):
    """Commercial KPIs over orders, customers and sessions (see features.analytics.kpis)."""

    # The published DTC figures count a first order exactly N days after signup as within N
    # days (inclusive) but a reorder exactly N days after the first order as outside
    # (half-open), so each window states which it is.
    first_order_within_days: int = Field(default=7, gt=0)
    first_order_window_inclusive: bool = True
    retention_days: list[PositiveInt] = Field(default_factory=lambda: [30, 60, 90], min_length=1)
    retention_window_inclusive: bool = False
    rolling_window_days: int = Field(default=28, gt=0)
    cohort_max_months: int = Field(default=12, ge=0)
    conversion_event_types: list[str] = Field(default_factory=lambda: ["purchase"], min_length=1)
    # Group label for a missing channel, region or source, so that rows are never dropped.
    unknown_label: str = "(unknown)"


class AnalyticsParams(Section):
    report_dir: str = "out/reports"
    journeys: JourneyAnalyticsParams = JourneyAnalyticsParams()
    kpis: KpiParams = KpiParams()


def normalize_page(name: str) -> str:
    """Page names compare case-blind with spaces and hyphens as underscores.

    ``"Resources center"`` -> ``"resources_center"``; feature builders apply the same rule
    to the ``page`` column (see ``features.builders._common.page_key``).
    """
    return name.strip().lower().replace(" ", "_").replace("-", "_")


class PathsParams(Section):
    """Journey-path features: which pages matter, what "early" means, which transitions."""

    # Path features look at events in [cutoff - window_days, cutoff).
    window_days: int = Field(90, gt=0)
    # "Early in a session" means within its first `early_events` events (seq <= early_events).
    early_events: int = Field(3, gt=0)
    # Named key pages -> the page names that count as that page (normalized, see
    # normalize_page). Each key gives a `<key>_views_<window>d` feature.
    pages: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "pricing": ["pricing"],
            "membership": ["membership", "subscription", "subscribe"],
            "size_guide": ["size_guide", "fit_guide"],
            "returns_page": ["returns", "returns_policy"],
            "support": ["support", "help", "contact"],
            "checkout": ["checkout"],
        }
    )
    # Key pages whose presence early in a session is a feature.
    early_pages: list[str] = Field(default_factory=lambda: ["pricing", "membership"])
    # Page-to-page transitions counted as features, as [from, to] page names.
    transitions: list[tuple[str, str]] = Field(
        default_factory=lambda: [
            ("product", "size_guide"),
            ("size_guide", "product"),
            ("cart", "checkout"),
            ("cart", "product"),
            ("home", "membership"),
            ("home", "returns"),
        ]
    )

    @field_validator("pages")
    @classmethod
    def _normalize_pages(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, names in v.items():
            if not key.isidentifier() or key != key.lower():
                raise ValueError(f"page key {key!r} must be a lowercase identifier")
            if not names:
                raise ValueError(f"page key {key!r} lists no page names")
        return {key: [normalize_page(n) for n in names] for key, names in v.items()}

    @field_validator("transitions")
    @classmethod
    def _normalize_transitions(cls, v: list[tuple[str, str]]) -> list[tuple[str, str]]:
        out = [(normalize_page(a), normalize_page(b)) for a, b in v]
        for a, b in out:
            if not f"{a}_{b}".isidentifier():
                raise ValueError(f"transition {a}->{b} must use letters, digits and underscores")
        return out

    @model_validator(mode="after")
    def _early_pages_are_keys(self) -> PathsParams:
        for key in self.early_pages:
            if key not in self.pages:
                raise ValueError(unknown_name_message("early page", key, self.pages))
        return self


class FeaturesParams(Section):
    """Point-in-time customer features (see features.builders)."""

    # Rolling windows [cutoff - w days, cutoff) for counts and sums.
    windows_days: list[int] = Field(default_factory=lambda: [7, 30, 90, 365])
    # Trend: the last `trend_days` against the `trend_days` before them.
    trend_days: int = Field(90, gt=0)
    # Recent-returns window.
    returns_window_days: int = Field(90, gt=0)
    paths: PathsParams = PathsParams()

    @field_validator("windows_days")
    @classmethod
    def _windows(cls, v: list[int]) -> list[int]:
        if not v or any(w <= 0 for w in v) or len(set(v)) != len(v):
            raise ValueError("windows_days must be distinct positive day counts")
        return sorted(v)


class LabelsParams(Section):
    """Targets at a cutoff: what churn means and how far labels look ahead."""

    # inactivity: no order in [cutoff, cutoff + horizon_days);
    # cancellation: a membership active at the cutoff lapses in that window.
    churn: Literal["inactivity", "cancellation"] = "inactivity"
    horizon_days: int = Field(90, gt=0)
    # A subscription that ends is a plan change, not a lapse, when the member is covered
    # again within this many days of its end.
    lapse_grace_days: float = Field(1.0, ge=0)
    # Survival labels are censored this many days after the cutoff at the latest.
    survival_max_days: int = Field(365, gt=0)
    # Fit labels: lines ordered in [cutoff - fit_window_days, cutoff), and returns received
    # within fit_return_days of the order.
    fit_window_days: int = Field(365, gt=0)
    fit_return_days: int = Field(60, gt=0)
    # Exclusive end of the observed data; label windows must end by it. Null: the
    # midnight after the last timestamp in the data.
    observed_until: dt.datetime | None = None


class TrainingParams(Section):
    """Out-of-time split shared by every model (training.splits).

    The test cutoff is ``test_cutoff``, or else the latest cutoff whose label window ends
    by the end of the data. Train cutoffs step back ``cutoff_step_days`` from the test
    cutoff minus the horizon, so no train label window overlaps the test window.
    """

    test_cutoff: dt.date | None = None
    train_cutoffs: list[dt.date] | None = None  # explicit list instead of the stepped ones
    n_train_cutoffs: int = Field(4, gt=0)
    cutoff_step_days: int = Field(30, gt=0)
    # Customers sampled per train cutoff (null: all), for quick runs on big warehouses.
    max_rows_per_cutoff: int | None = Field(None, gt=0)


class ClvParams(Section):
    """The CLV model (models.clv_hybrid): boosted ranking at the purchase dynamics' level.

    Revenue is predicted over ``labels.horizon_days``; cutoffs come from ``training``.
    """

    # The label-free dynamics model that sets the level: BG/NBD or Pareto/NBD purchases,
    # each x Gamma-Gamma spend (models.clv_bgnbd_gg, models.clv_pareto_nbd_gg).
    dynamics: Literal["bgnbd", "pareto_nbd"] = "bgnbd"
    # Exponent of the dynamics model in the geometric blend:
    # 0 = ranking from the booster alone, 1 = the dynamics model alone.
    dynamics_weight: float = Field(0.25, ge=0, le=1)
    # Whether the booster sees the dynamics model's clv, p_alive and expected orders.
    dynamics_features: bool = True
    n_estimators: int = Field(300, gt=0)
    learning_rate: float = Field(0.03, gt=0)
    num_leaves: int = Field(15, gt=1)
    min_child_samples: int = Field(50, gt=0)
    # Posterior draws per customer for the P10-P90 interval.
    n_draws: int = Field(400, gt=0)
    # Seasonality: a labelled snapshot this many days before the test cutoff is added to
    # training, and the dynamics model's bias there scales the level (null: off).
    season_days: int | None = Field(365, gt=0)


class ActionRule(Section):
    """A recommended action and the reason features (``reason_k_feature``) that call for it.

    A ``fallback`` rule is only consulted for customers none of whose reasons a regular rule
    lists: e.g. a high-value customer whose risk shows only in how much she spends gets a
    personal check-in rather than no action, while her fit returns, if they are among her
    reasons, still call for the fit consultation.
    """

    action: str = Field(min_length=1)
    features: list[str] = Field(min_length=1)
    fallback: bool = False


class DriftParams(Section):
    """Drift against the churn champion's training data (``reference/feature_quantiles.json``)."""

    psi_threshold: float = Field(0.2, gt=0)
    # Features whose PSI above the threshold flags the run (a warning in the manifest).
    key_features: list[str] = Field(default_factory=list)
    # Exit non-zero (after writing everything) when a key feature or the score drifts.
    fail_on_drift: bool = False


class ServedModels(Section):
    """The registered name behind each model role."""

    churn: str = "churn"
    churn_survival: str = "churn_survival"
    clv: str = "clv"
    size: str = "size"


class ServingParams(Section):
    """The nightly scorer, write-back and the churn-risk list (see serving/)."""

    # Registered model names, read as models:/<name>@<alias>.
    models: ServedModels = ServedModels()
    alias: str = "champion"
    # Where predictions go: null = the warehouse; else any Ibis URL, or parquet:///folder
    # (one as_of=YYYY-MM-DD partition per date). JOURNEY_WRITEBACK overrides it.
    writeback_url: str | None = None
    batch_rows: int = Field(100_000, gt=0)
    # Churn reasons (TreeSHAP, about 1.5 ms a row) for the top N by value at risk; the rest
    # get no reasons and the default action. None: everyone.
    reasons_top_n: int | None = Field(20_000, gt=0)
    # Active = signed up, and signed up, ordered or visited within this many days (null: all).
    active_within_days: int | None = Field(365, gt=0)
    size_category: str = "bra"
    # Risk tier = the first tier whose lower bound p_churn reaches (checked highest first).
    tiers: dict[str, float] = Field(
        default_factory=lambda: {"high": 0.6, "medium": 0.3, "low": 0.0}
    )
    # The first of a customer's reasons (in order) that a rule lists decides the action.
    actions: list[ActionRule] = Field(default_factory=list)
    default_action: str = "no action: regular lifecycle messages"
    # customers columns shown in the risk list besides customer_id (PII: only when listed).
    contact_columns: list[str] = Field(default_factory=list)
    segment_column: str | None = "segment"
    risk_list_dir: str = "out/risk_list"
    html_rows: int = Field(2000, gt=0)  # the page shows the top rows by value at risk
    history_runs: int = Field(30, gt=0)  # past scores per customer in the detail panel
    lock_path: str = "out/journey-score.lock"
    drift: DriftParams = DriftParams()

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or any(not 0 <= b <= 1 for b in v.values()):
            raise ValueError("tiers need at least one lower bound, each in [0, 1]")
        if min(v.values()) != 0:
            raise ValueError("the lowest tier must start at 0 so every customer gets a tier")
        return dict(sorted(v.items(), key=lambda kv: -kv[1]))


class SparkParams(Section):
    """The Spark engine (``journey features|score --engine spark``, features.io.spark).

    Paths are folders (local, ``hdfs://``, ``s3a://``...); relative ones resolve against
    the params file's folder. Under ``spark-submit`` the master, driver and executor
    settings come from its command line instead (see docs/scale.md).
    """

    master: str = "local[2]"
    app_name: str = Field("customer-journey", min_length=1)
    driver_memory: str = "2g"
    executor_memory: str = "2g"
    executor_cores: int | None = Field(None, gt=0)
    executor_instances: int | None = Field(None, gt=0)
    # Partitions after a shuffle (joins, group-bys): about 2-3 per core in the cluster.
    shuffle_partitions: int = Field(8, gt=0)
    # Rows per Arrow batch handed to each model UDF (spark.sql.execution.arrow.maxRecordsPerBatch).
    arrow_batch_rows: int = Field(10_000, gt=0)
    # The canonical tables, one Parquet folder per table (`journey export-parquet`).
    source: str = "data/canonical"
    # Feature snapshots and predictions, Parquet partitioned by as_of.
    features: str = "data/features"
    predictions: str = "data/predictions"
    # Top rows by value at risk collected to the driver for the risk list CSV and page.
    risk_list_rows: int = Field(10_000, gt=0)
    # Any other Spark setting, e.g. {"spark.local.dir": "/mnt/tmp"}; applied last.
    conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("conf", mode="before")
    @classmethod
    def _conf_as_text(cls, v: Any) -> Any:
        # YAML reads `true` and `4` as bool and int; Spark takes every setting as text.
        if isinstance(v, Mapping):
            return {str(k): str(x).lower() if isinstance(x, bool) else str(x) for k, x in v.items()}
        return v


class ChurnBoosterParams(Section):
    """LightGBM hyperparameters of the churn classifier (models.churn_classifier)."""

    n_estimators: int = Field(300, gt=0)
    learning_rate: float = Field(0.03, gt=0)
    num_leaves: int = Field(15, ge=2)
    max_depth: int = -1
    min_child_samples: int = Field(50, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    subsample_freq: int = Field(1, ge=0)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_alpha: float = Field(0.0, ge=0)
    reg_lambda: float = Field(5.0, ge=0)
    min_data_per_group: int = Field(100, ge=1)
    calibration_method: Literal["sigmoid", "isotonic"] = "sigmoid"
    # An int: the latest this many train cutoffs; a float: the latest cutoffs holding this share.
    calibration_size: float | int = 1
    # Days of the BG/NBD blend's P(no purchase) horizon (the label horizon); null: booster only.
    purchase_model_horizon_days: float | None = Field(None, gt=0)
    n_jobs: int | None = None


class RetentionOfferParams(Section):
    """The retention campaign behind the expected-profit metric (models.metrics.profit_curve)."""

    value_saved: float = Field(60.0, ge=0)  # margin kept when a churner is retained
    offer_cost: float = Field(10.0, ge=0)
    contact_cost: float = Field(1.0, ge=0)
    acceptance_rate: float = Field(0.3, ge=0, le=1)  # contacted churners who stay
    nonchurner_offer_rate: float = Field(1.0, ge=0, le=1)  # contacted non-churners who take it
    contact_shares: list[float] = Field(default_factory=lambda: [0.05, 0.1])


class ChurnSurvivalParams(Section):
    """The lifelines survival model registered as ``churn_survival``."""

    # best: the better of cox and weibull by concordance on the test window.
    model: Literal["best", "cox", "weibull"] = "weibull"
    penalizer: float = Field(0.1, ge=0)
    l1_ratio: float = Field(0.0, ge=0, le=1)
    # Feature columns the survival models use; null: every feature column.
    features: list[str] | None = None
    # Rows sampled from the stacked train frame (lifelines is slow on millions); null: all.
    max_rows: int | None = Field(50_000, gt=0)
    curve_step_days: int = Field(15, gt=0)
    curve_max_days: int = Field(180, gt=0)
    horizons_days: list[int] = Field(default_factory=lambda: [30, 60, 90])


# ChurnBoosterParams fields that `journey tune churn` does not draw, and why.
NOT_SEARCHED = {
    "n_estimators": "early stopping picks it (churn.tune.max_rounds, early_stopping_rounds)",
    "calibration_method": "calibration is fitted after the booster, not searched",
    "calibration_size": "it sets which cutoffs the booster trains on, not how",
    "n_jobs": "threads do not change the model (churn.tune.n_jobs)",
}


class TuneParams(Section):
    """Optuna search over the booster (``journey tune churn``)."""

    n_trials: int = Field(50, gt=0)
    timeout_seconds: float | None = Field(None, gt=0)
    n_folds: int = Field(3, ge=1)  # expanding-window folds over the train cutoffs
    metric: Literal["roc_auc", "pr_auc", "brier", "log_loss"] = "roc_auc"
    n_startup_trials: int = Field(8, ge=0)  # TPE's random start; no pruning before it
    # Boosting rounds: each trial boosts up to max_rounds and stops once the mean validation
    # metric has not improved for early_stopping_rounds; the best round is its n_estimators.
    max_rounds: int = Field(1500, gt=0)
    early_stopping_rounds: int = Field(50, gt=0)
    # The pruner sees the mean validation metric every prune_every_rounds rounds, from
    # prune_warmup_rounds on, and keeps a trial only while it is within the top
    # prune_percentile % of the finished trials at that round (optuna's PercentilePruner;
    # 50 is the median pruner; higher prunes less and spares slow learning rates, which
    # start behind and may still win).
    prune_every_rounds: int = Field(10, gt=0)
    prune_warmup_rounds: int = Field(100, ge=0)
    prune_percentile: float = Field(50.0, gt=0, lt=100)
    n_jobs: int | None = 1  # LightGBM threads per trial; null = all cores
    # parameter -> [low, high]; ints stay ints; learning_rate and reg_* are searched in log.
    space: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {
            "learning_rate": (0.01, 0.2),
            "num_leaves": (4, 63),
            "min_child_samples": (10, 300),
            "colsample_bytree": (0.4, 1.0),
            "subsample": (0.5, 1.0),
            "reg_lambda": (0.01, 50.0),
        }
    )

    @field_validator("space")
    @classmethod
    def _space(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        valid = [f for f in ChurnBoosterParams.model_fields if f not in NOT_SEARCHED]
        for name, (low, high) in v.items():
            if name in NOT_SEARCHED:
                raise ValueError(f"{name} is not searched: {NOT_SEARCHED[name]}")
            if name not in valid:
                raise ValueError(unknown_name_message("booster parameter", name, valid))
            if not low < high:
                raise ValueError(f"{name}: low {low} must be below high {high}")
        return v


class ChurnParams(Section):
    """Churn models (training.train_churn): classifier, baseline, survival, campaign, tuning."""

    classifier: ChurnBoosterParams = ChurnBoosterParams()
    # Plain RFM columns of the logistic-regression baseline every model must beat.
    baseline_columns: list[str] = Field(
        default_factory=lambda: ["recency_days", "orders_lifetime", "spend_lifetime", "tenure_days"]
    )
    baseline_C: float = Field(1.0, gt=0)
    # Feature columns left out of every churn model (null: none).
    exclude_features: list[str] = Field(default_factory=list)
    reasons: int = Field(3, ge=1, le=3)
    top_fractions: list[float] = Field(default_factory=lambda: [0.05, 0.1])
    offer: RetentionOfferParams = RetentionOfferParams()
    survival: ChurnSurvivalParams = ChurnSurvivalParams()
    tune: TuneParams = TuneParams()


class Params(Section):
    """All params. ``root`` is the folder relative paths resolve against."""

    root: Path = Path(".")
    project: ProjectParams = ProjectParams()
    warehouse: WarehouseParams = WarehouseParams()
    mlflow: MlflowParams = MlflowParams()
    simulate: SimulateParams = SimulateParams()
    validation: ValidationParams = ValidationParams()
    loaders: LoadersParams = LoadersParams()
    registry: RegistryParams = RegistryParams()
    analytics: AnalyticsParams = AnalyticsParams()
    features: FeaturesParams = FeaturesParams()
    labels: LabelsParams = LabelsParams()
    training: TrainingParams = TrainingParams()
    size: SizeParams = SizeParams()
    clv: ClvParams = ClvParams()
    serving: ServingParams = ServingParams()
    churn: ChurnParams = ChurnParams()
    spark: SparkParams = SparkParams()

    @field_validator("root")
    @classmethod
    def _absolute_root(cls, v: Path) -> Path:
        return v.resolve()

    def path(self, relative: str | Path) -> Path:
        """A path from params, resolved against ``root`` unless already absolute."""
        p = Path(relative)
        return p if p.is_absolute() else self.root / p


def resolve_url(url: str, root: Path) -> str:
    """Make a ``scheme:///relative/path`` URL absolute against ``root``.

    ``duckdb:///data/w.duckdb`` -> ``duckdb:////<root>/data/w.duckdb``; URLs with four
    slashes, a host, or ``:memory:`` are returned unchanged.
    """
    scheme, sep, rest = url.partition(":///")
    if not sep or rest.startswith("/") or rest.startswith(":memory:") or not rest:
        return url
    return f"{scheme}:///{(root / rest).resolve()}"


def url_path(url: str) -> Path | None:
    """The file path in a ``duckdb:////abs`` or ``sqlite:////abs`` URL, else None."""
    _, sep, rest = url.partition(":///")
    return Path(rest) if sep and rest.startswith("/") else None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The params model that owns the key at ``loc`` (walking through dict values)."""
    node: Any = Params
    parts = list(loc)
    while parts:
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(parts.pop(0)))
            if field is None:
                return None
            node = field.annotation
        elif get_origin(node) is dict:
            parts.pop(0)  # a user-chosen key, e.g. a mapping's name
            node = get_args(node)[1]
        else:
            return None
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _explain(err: ValidationError, source: Path) -> str:
    lines = [f"{source}: invalid params"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            owner = _model_at(tuple(e["loc"][:-1]))
            valid = list(owner.model_fields) if owner is not None else []
            where = ".".join(str(p) for p in e["loc"][:-1]) or "top level"
            lines.append(f"  at {where}: " + unknown_name_message("key", str(e["loc"][-1]), valid))
        else:
            lines.append(f"  {loc}: {e['msg']} (got {e.get('input')!r})")
    return "\n".join(lines)


def parse_params(
    raw: Mapping[str, Any],
    *,
    root: Path,
    env: Mapping[str, str],
    source: Path | str = "params.yaml",
) -> Params:
    """Validate a params mapping, apply environment overrides and resolve relative URLs."""
    data = dict(raw or {})
    data.pop("root", None)
    try:
        params = Params.model_validate({**data, "root": root})
    except ValidationError as err:
        raise ConfigError(_explain(err, Path(source))) from None
    warehouse = env.get(WAREHOUSE_ENV) or params.warehouse.url
    tracking = env.get(TRACKING_ENV) or params.mlflow.tracking_uri
    writeback = env.get(WRITEBACK_ENV) or params.serving.writeback_url
    master = env.get(SPARK_MASTER_ENV) or params.spark.master
    return params.model_copy(
        update={
            "warehouse": params.warehouse.model_copy(
                update={"url": resolve_url(warehouse, params.root)}
            ),
            "mlflow": params.mlflow.model_copy(
                update={
                    "tracking_uri": resolve_url(tracking, params.root),
                    "artifact_location": str(params.path(params.mlflow.artifact_location)),
                }
            ),
            "serving": params.serving.model_copy(
                update={
                    "writeback_url": None
                    if writeback is None
                    else resolve_url(writeback, params.root)
                }
            ),
            "spark": params.spark.model_copy(update={"master": master}),
        }
    )


def load_params(
    path: str | Path = "params.yaml", *, env: Mapping[str, str] | None = None
) -> Params:
    """Load ``params.yaml``; an unknown key fails with the closest valid key suggested."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"params file not found: {path.resolve()}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    return parse_params(
        raw, root=path.resolve().parent, env=os.environ if env is None else env, source=path
    )
