"""Point-in-time feature builders: the families, the full feature table, reason templates.

Each family lives in its own module as a pure ``build_<family>(tables, cutoff, *,
options) -> ibis.Table`` with one row per customer who signed up before the cutoff.
Features use events with ``ts < cutoff`` only; labels (``features.labels``) use
``[cutoff, cutoff + horizon)``. Options come from ``params.yaml`` (``features:``).

Every family also has a ``DESCRIPTION`` and ``reasons(**options)``: feature name ->
plain-language template with a ``{value}`` field, which the churn model fills with the
feature's value to explain a score (``feature_reasons``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from features.builders import engagement, paths, promo, purchases, returns, subscription, value
from features.builders._common import KEY, as_cutoff, attach, population
from features.config import FeaturesParams, Params
from features.errors import JourneyError, unknown_name_message

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class Family:
    """A feature family: its builder, reason templates and where its options come from."""

    name: str
    description: str
    build: Callable[..., ir.Table]
    reasons: Callable[..., dict[str, str]]
    options: Callable[[FeaturesParams], dict[str, Any]]
    categorical: tuple[str, ...] = ()


def _paths_options(p: FeaturesParams) -> dict[str, Any]:
    q = p.paths
    return {
        "window_days": q.window_days,
        "early_events": q.early_events,
        "pages": q.pages,
        "early_pages": q.early_pages,
        "transitions": q.transitions,
    }


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "value",
            value.DESCRIPTION,
            value.build_value,
            value.reasons,
            lambda p: {"windows_days": p.windows_days, "trend_days": p.trend_days},
        ),
        Family(
            "engagement",
            engagement.DESCRIPTION,
            engagement.build_engagement,
            engagement.reasons,
            lambda p: {"windows_days": p.windows_days},
        ),
        Family("paths", paths.DESCRIPTION, paths.build_paths, paths.reasons, _paths_options),
        Family(
            "returns",
            returns.DESCRIPTION,
            returns.build_returns,
            returns.reasons,
            lambda p: {"window_days": p.returns_window_days},
        ),
        Family(
            "promo",
            promo.DESCRIPTION,
            promo.build_promo,
            promo.reasons,
            lambda p: {},
            promo.CATEGORICAL,
        ),
        Family(
            "subscription",
            subscription.DESCRIPTION,
            subscription.build_subscription,
            subscription.reasons,
            lambda p: {},
            subscription.CATEGORICAL,
        ),
        Family(
            "purchases",
            purchases.DESCRIPTION,
            purchases.build_purchases,
            purchases.reasons,
            lambda p: {},
        ),
    )
}


def features_params(params: Params | FeaturesParams | None) -> FeaturesParams:
    """The ``features`` section from full params, the section itself, or the defaults."""
    if params is None:
        return FeaturesParams()
    return params.features if isinstance(params, Params) else params


def _families(names: Iterable[str] | None) -> list[Family]:
    if names is None:
        return list(FAMILIES.values())
    out = []
    for name in names:
        if name not in FAMILIES:
            raise JourneyError(unknown_name_message("feature family", name, FAMILIES))
        out.append(FAMILIES[name])
    return out


def build_features(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime | dt.date,
    *,
    params: Params | FeaturesParams,
    families: Iterable[str] | None = None,
) -> ir.Table:
    """The full feature table at ``cutoff``: ``customer_id`` plus every family's features.

    One row per customer with ``signup_ts < cutoff``; features use events with
    ``ts < cutoff`` only. ``families`` picks a subset (default: all, in registry order).
    """
    cutoff = as_cutoff(cutoff)
    p = features_params(params)
    seen: dict[str, str] = {}
    built = []
    for family in _families(families):
        part = family.build(tables, cutoff, **family.options(p))
        for col in part.columns:
            if col != KEY and col in seen:
                raise JourneyError(
                    f"feature {col!r} is built by both {seen[col]!r} and {family.name!r}"
                )
            seen[col] = family.name
        built.append(part)
    return attach(population(tables, cutoff).select(KEY), *built)


def feature_reasons(params: Params | FeaturesParams | None = None) -> dict[str, str]:
    """Feature name -> plain-language reason template, for every family.

    Fill a template with ``template.format(value=v)``; names follow the windows in
    ``params`` (the defaults when omitted).
    """
    p = features_params(params)
    out: dict[str, str] = {}
    for family in FAMILIES.values():
        out |= family.reasons(**family.options(p))
    return out


def feature_families(params: Params | FeaturesParams | None = None) -> dict[str, list[str]]:
    """Family name -> its feature names, in column order."""
    p = features_params(params)
    return {f.name: list(f.reasons(**f.options(p))) for f in FAMILIES.values()}


def categorical_features() -> list[str]:
    """Features that hold category labels (strings), not numbers."""
    return [c for f in FAMILIES.values() for c in f.categorical]


__all__ = [
    "FAMILIES",
    "Family",
    "build_features",
    "categorical_features",
    "feature_families",
    "feature_reasons",
]
