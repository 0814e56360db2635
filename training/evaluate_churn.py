"""Churn evaluation on the test window: the figures logged, gated and compared at promotion.

Thin wiring over ``models.metrics``: every number is one of its pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from features.config import ChurnParams
from models.metrics import (
    churn_classifier_metrics,
    concordance_index,
    contact_profit,
    cumulative_dynamic_auc,
    integrated_brier_score,
    top_count,
)
from models.survival import SurvivalModelBase

COMPARED = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_top10pct", "capture_top10pct")


def classifier_metrics(y_true, p_churn, churn: ChurnParams) -> dict[str, float]:
    """ROC/PR-AUC, Brier, log loss, lift and capture at the top fractions, and the expected
    profit of contacting the top share(s) with the retention offer in ``churn.offer``."""
    out = churn_classifier_metrics(y_true, p_churn, top_fractions=churn.top_fractions)
    o = churn.offer
    for share in o.contact_shares:
        k = top_count(len(np.asarray(y_true)), share)
        profit = contact_profit(
            y_true,
            p_churn,
            k,
            value_saved=o.value_saved,
            offer_cost=o.offer_cost,
            contact_cost=o.contact_cost,
            acceptance_rate=o.acceptance_rate,
            nonchurner_offer_rate=o.nonchurner_offer_rate,
        )
        out[f"expected_profit_top{100 * share:g}pct"] = profit
    return out


def versus_baseline(ours: Mapping[str, float], baseline: Mapping[str, float]) -> dict[str, float]:
    """``baseline_<m>`` and ``<m>_vs_baseline`` (ours minus baseline) for the compared metrics."""
    out = {f"baseline_{m}": float(v) for m, v in baseline.items()}
    for m in COMPARED:
        if m in ours and m in baseline:
            out[f"{m}_vs_baseline"] = float(ours[m]) - float(baseline[m])
    return out


def event_risk(model: SurvivalModelBase, X: pd.DataFrame, horizon_days: float) -> np.ndarray:
    """P(the survival event by ``horizon_days``): higher = the event comes sooner."""
    return 1.0 - model.predict_survival_function(X, [horizon_days])[:, 0]


def survival_metrics(
    duration_days,
    event,
    *,
    survival_at,
    risk_at,
    horizons_days,
) -> dict[str, float]:
    """Concordance, integrated Brier score and time-dependent AUCs on one window.

    ``survival_at(times)`` returns S(t | x) for the rows at ``times`` (None: no integrated
    Brier score); ``risk_at(t)`` the
    risk of the event by ``t`` (higher = sooner). The window's follow-up is the longest
    observed duration; the integrated Brier score runs over whole days within it, and an
    AUC at a horizon that reaches the end of follow-up is taken half a day before it (its
    controls are the rows still without the event at the end).
    """
    t = np.asarray(duration_days, dtype=np.float64)
    e = np.asarray(event).astype(bool)
    follow_up = float(t.max())
    last = min(max(horizons_days), follow_up - 0.5)
    out = {"concordance": concordance_index(t, e, risk_at(last))}
    grid = np.arange(1.0, np.floor(follow_up - 0.5) + 1.0)
    if survival_at is not None and len(grid) >= 2:
        out["integrated_brier"] = integrated_brier_score(t, e, survival_at(grid), grid)
    times = [min(float(h), follow_up - 0.5) for h in horizons_days]
    risk = np.column_stack([risk_at(h) for h in times])
    aucs = cumulative_dynamic_auc(t, e, risk, times)
    for h, auc in zip(horizons_days, aucs, strict=True):
        out[f"auc_{h}d"] = float(auc)
    out["event_rate"] = float(e.mean())
    return out


def fitted_survival_metrics(
    model: SurvivalModelBase, X: pd.DataFrame, duration_days, event, horizons_days
) -> dict[str, float]:
    """:func:`survival_metrics` of a fitted survival model."""
    return survival_metrics(
        duration_days,
        event,
        survival_at=lambda times: model.predict_survival_function(X, times),
        risk_at=lambda h: event_risk(model, X, h),
        horizons_days=horizons_days,
    )
