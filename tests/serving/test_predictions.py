"""Tiers, actions and the predictions rows, on literal inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features.config import ActionRule, load_params
from features.errors import JourneyError
from features.store import active_mask
from serving.predictions import (
    PREDICTIONS_SCHEMA,
    assemble_predictions,
    recommend_actions,
    risk_tiers,
)
from serving.score import check_actions, feature_digest

TIERS = {"high": 0.6, "medium": 0.3, "low": 0.0}
RULES = [
    ActionRule(action="fit", features=["fit_returns_90d"]),
    ActionRule(action="win-back", features=["days_since_last_visit", "fit_returns_90d"]),
]


def test_tiers_take_the_highest_bound_reached():
    p = pd.Series([0.0, 0.3, 0.59, 0.6, 1.0, np.nan])
    assert risk_tiers(p, TIERS).tolist() == ["low", "medium", "medium", "high", "high", None]


def test_the_first_reason_a_rule_lists_decides_the_action():
    reasons = pd.DataFrame(
        {
            "reason_1_feature": ["days_since_last_visit", "spend_90d", None, "fit_returns_90d"],
            "reason_2_feature": ["fit_returns_90d", "fit_returns_90d", None, None],
            "reason_3_feature": [None, None, None, None],
        }
    )
    # reason 1 outranks reason 2; a feature listed twice keeps its first rule
    assert recommend_actions(reasons, RULES, "none").tolist() == ["win-back", "fit", "none", "fit"]


def test_a_fallback_rule_acts_only_where_no_regular_rule_does():
    reasons = pd.DataFrame(
        {
            "reason_1_feature": ["spend_90d", "spend_90d", "aov", None],
            "reason_2_feature": ["fit_returns_90d", "aov", None, None],
            "reason_3_feature": [None, "days_since_last_visit", "sessions_90d", None],
        }
    )
    rules = [
        ActionRule(action="check-in", features=["spend_90d", "aov"], fallback=True),
        *RULES,
    ]
    got = recommend_actions(reasons, rules, "none").tolist()
    # a regular rule wins from any reason slot, even listed after the fallback rule
    assert got == ["fit", "win-back", "check-in", "none"]


def test_assemble_computes_value_at_risk_and_nulls_non_finite_values():
    scored = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "p_churn": [0.5, 0.9],
            "reason_1": ["r", None],
            "reason_2": [None, None],
            "reason_3": [None, None],
            "reason_1_feature": ["fit_returns_90d", None],
            "reason_2_feature": [None, None],
            "reason_3_feature": [None, None],
            "median_days_to_churn": [np.inf, 20.0],
            "clv": [100.0, np.nan],
            "recommended_size": ["34C", "M"],
        }
    )
    models = {r: f"{r}/1" for r in ("churn", "churn_survival", "clv", "size")}
    t = assemble_predictions(
        scored,
        as_of=dt.date(2024, 7, 1),
        tiers=TIERS,
        rules=RULES,
        default_action="none",
        models=models,
        run_id="r1",
    )
    assert t.schema == PREDICTIONS_SCHEMA
    d = t.to_pylist()
    assert d[0]["value_at_risk"] == 50.0 and d[1]["value_at_risk"] is None
    assert d[0]["median_days_to_churn"] is None and d[1]["median_days_to_churn"] == 20.0
    assert [r["recommended_action"] for r in d] == ["fit", "none"]
    assert [r["risk_tier"] for r in d] == ["medium", "high"]
    assert d[0]["churn_model"] == "churn/1" and d[0]["as_of"] == dt.date(2024, 7, 1)


def test_active_means_a_signup_order_or_visit_within_the_window():
    f = pd.DataFrame(
        {
            "tenure_days": [400.0, 10.0, 800.0, 800.0],
            "recency_days": [np.nan, np.nan, 30.0, 700.0],
            "days_since_last_visit": [100.0, np.nan, np.nan, 500.0],
        }
    )
    assert active_mask(f, 365).tolist() == [True, True, True, False]
    assert active_mask(f, None).all()
    assert feature_digest(f) == feature_digest(f.copy()) != feature_digest(f.iloc[:3])


def test_an_action_rule_on_an_unknown_feature_names_the_closest(tmp_path):
    (tmp_path / "params.yaml").write_text(
        "serving:\n  actions:\n    - {action: x, features: [fit_return_90d]}\n"
    )
    params = load_params(tmp_path / "params.yaml", env={})
    with pytest.raises(JourneyError, match="Did you mean 'fit_returns_90d'"):
        check_actions(params)


def test_tiers_must_start_at_zero(tmp_path):
    (tmp_path / "params.yaml").write_text("serving:\n  tiers: {high: 0.5}\n")
    with pytest.raises(JourneyError, match="lowest tier must start at 0"):
        load_params(tmp_path / "params.yaml", env={})
