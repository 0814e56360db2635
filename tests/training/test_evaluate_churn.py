"""Churn evaluation wiring: profit at contact shares, baseline differences, follow-up caps."""

import numpy as np
import pytest

from features.config import ChurnParams, RetentionOfferParams
from models.metrics import concordance_index, cumulative_dynamic_auc
from training.evaluate_churn import classifier_metrics, survival_metrics, versus_baseline


def test_profit_of_contacting_the_top_share():
    churn = ChurnParams(offer=RetentionOfferParams(contact_shares=[0.25, 0.5]))
    got = classifier_metrics([1, 0, 1, 0], [0.9, 0.8, 0.1, 0.2], churn)
    # top 1: a churner, 0.3 * (60 - 10) - 1 = 14; top 2 adds a non-churner: -(10 + 1)
    assert got["expected_profit_top25pct"] == pytest.approx(14.0)
    assert got["expected_profit_top50pct"] == pytest.approx(3.0)
    assert got["roc_auc"] == pytest.approx(0.5)


def test_versus_baseline_is_ours_minus_theirs():
    got = versus_baseline({"roc_auc": 0.8, "brier": 0.1}, {"roc_auc": 0.75, "brier": 0.12})
    assert got == pytest.approx(
        {
            "baseline_roc_auc": 0.75,
            "baseline_brier": 0.12,
            "roc_auc_vs_baseline": 0.05,
            "brier_vs_baseline": -0.02,
        }
    )


def test_survival_metrics_cap_horizons_at_the_follow_up():
    t = np.array([5.0, 20.0, 40.0, 90.0, 90.0, 70.0])
    e = np.array([1, 1, 1, 0, 0, 1])
    risk = np.array([0.9, 0.7, 0.5, 0.1, 0.2, 0.3])
    got = survival_metrics(t, e, survival_at=None, risk_at=lambda h: risk, horizons_days=[30, 90])
    assert got["concordance"] == pytest.approx(concordance_index(t, e, risk))
    assert got["auc_90d"] == pytest.approx(cumulative_dynamic_auc(t, e, risk, [89.5])[0])
    assert got["auc_30d"] == pytest.approx(cumulative_dynamic_auc(t, e, risk, [30.0])[0])
    assert "integrated_brier" not in got and got["event_rate"] == pytest.approx(4 / 6)
