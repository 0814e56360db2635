"""HybridCLVModel: the level comes from the dynamics model at the scoring cutoff, the blend
limits, per-cutoff dynamics features, and the ageing failure it exists to fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import metrics
from models._clv import CLV_COLUMNS
from models.clv_bgnbd_gg import BetaGeoCLVModel
from models.clv_boosted import BoostedCLVModel
from models.clv_hybrid import DYNAMICS_FEATURES, HybridCLVModel

HORIZON_DAYS = 182


def booster():
    return BoostedCLVModel(n_estimators=100, random_state=0, n_jobs=1)


def dynamics():
    return BetaGeoCLVModel(horizon_days=HORIZON_DAYS, n_draws=200, random_state=0)


@pytest.fixture(scope="module")
def panel(purchase_panel):
    """Labels hidden at the scoring cutoff (week 52), as at scoring time."""
    latest = purchase_panel.cutoff == purchase_panel.cutoff.max()
    y = np.where(latest, np.nan, purchase_panel.y)
    return purchase_panel.X, y, purchase_panel.cutoff, latest, purchase_panel.y


@pytest.fixture(scope="module")
def fitted(panel):
    X, y, cutoff, *_ = panel
    return HybridCLVModel(dynamics=dynamics(), booster=booster()).fit(X, y, time=cutoff)


def test_total_at_the_scoring_cutoff_is_the_dynamics_models(fitted, panel):
    X, _, _, latest, _ = panel
    alone = dynamics().fit(X[latest]).predict(X[latest])
    assert fitted.predict(X[latest]).sum() == pytest.approx(alone.sum(), rel=1e-9)
    assert fitted.dynamics_.purchases_.params_ == dynamics().fit(X[latest]).purchases_.params_


def test_fixes_the_ageing_overprediction_and_keeps_the_ranking(fitted, panel):
    # Trained at weeks 13-26, scored at week 52: the booster alone overpredicts by half.
    X, y, _, latest, truth = panel
    labelled = ~np.isnan(y)
    alone = booster().fit(X[labelled], y[labelled]).predict(X[latest])
    actual = truth[latest]
    assert metrics.total_error(actual, alone) > 0.3
    hybrid = fitted.predict(X[latest])
    assert abs(metrics.total_error(actual, hybrid)) < 0.05
    dyn = fitted.dynamics_.predict(X[latest])
    assert metrics.normalized_gini(actual, hybrid) > metrics.normalized_gini(actual, dyn)
    assert metrics.decile_mape(actual, hybrid, n_groups=5) < metrics.decile_mape(
        actual, dyn, n_groups=5
    )


def test_weight_one_is_the_dynamics_model(panel):
    X, y, cutoff, latest, _ = panel
    model = HybridCLVModel(dynamics=dynamics(), booster=booster(), dynamics_weight=1.0)
    model.fit(X, y, time=cutoff)
    np.testing.assert_allclose(
        model.predict(X[latest]), model.dynamics_.predict(X[latest]), rtol=1e-9
    )
    assert model.level_factor_ == pytest.approx(1.0)


def test_dynamics_features_come_from_each_rows_own_cutoff(panel, monkeypatch):
    X, y, cutoff, *_ = panel
    seen = {}
    original = BoostedCLVModel.fit

    def spy(self, X_, y_):
        seen["X"] = X_
        return original(self, X_, y_)

    monkeypatch.setattr(BoostedCLVModel, "fit", spy)
    HybridCLVModel(dynamics=dynamics(), booster=booster()).fit(X, y, time=cutoff)
    features = seen["X"]
    assert list(features.columns[-3:]) == list(DYNAMICS_FEATURES)
    week13 = cutoff[~np.isnan(y)] == 13
    own = dynamics().fit(X[cutoff == 13]).predict_frame(X[cutoff == 13], interval=False)
    np.testing.assert_allclose(features["dynamics_clv"][week13], own["clv"])


def test_predict_frame(fitted, panel):
    X, _, _, latest, _ = panel
    rows = X[latest].iloc[:300]
    out = fitted.predict_frame(rows)
    assert tuple(out.columns) == CLV_COLUMNS
    dyn = fitted.dynamics_.predict_frame(rows)
    scale = out["clv"] / dyn["clv"]
    np.testing.assert_allclose(out["clv"], fitted.predict(rows))
    np.testing.assert_allclose(out["expected_orders"], dyn["expected_orders"] * scale)
    np.testing.assert_allclose(out["clv_p90"], dyn["clv_p90"] * scale)
    np.testing.assert_allclose(out["p_alive"], dyn["p_alive"])


def test_input_errors(panel):
    X, y, cutoff, latest, _ = panel
    model = HybridCLVModel(dynamics=dynamics(), booster=booster())
    early = y.copy()
    early[np.flatnonzero(cutoff == 13)[0]] = np.nan
    with pytest.raises(ValueError, match="y is missing at row 0 of cutoff 13"):
        model.fit(X, early, time=cutoff)
    with pytest.raises(ValueError, match="no row has a label"):
        model.fit(X[latest], y[latest], time=cutoff[latest])
    with pytest.raises(ValueError, match=r"dynamics_weight must be in \[0, 1\]"):
        HybridCLVModel(dynamics_weight=1.5).fit(X, y, time=cutoff)
    with pytest.raises(ValueError, match="time has shape"):
        model.fit(X, y, time=cutoff[:-1])
    assert isinstance(X, pd.DataFrame)


def test_season_ratio_is_the_dynamics_bias_a_season_back(panel):
    # In days, the cutoffs are 91, 119, 147, 182 and 364: 182 days back from 364 is week 26.
    X, y, cutoff, latest, _ = panel
    days = pd.to_datetime("2024-01-01") + pd.to_timedelta(cutoff * 7, unit="D")
    model = HybridCLVModel(dynamics=dynamics(), booster=booster(), season_days=180.0)
    model.fit(X, y, time=days.to_numpy())
    week26 = cutoff == 26
    bias = y[week26].sum() / dynamics().fit(X[week26]).predict(X[week26]).sum()
    assert model.season_cutoff_ == days[week26][0]
    assert model.season_ratio_ == pytest.approx(bias, rel=1e-9)
    alone = dynamics().fit(X[latest]).predict(X[latest])
    assert model.predict(X[latest]).sum() == pytest.approx(alone.sum() * bias, rel=1e-9)
    # No labelled cutoff near enough: no correction.
    far = HybridCLVModel(dynamics=dynamics(), booster=booster(), season_days=100.0)
    assert far.fit(X, y, time=cutoff * 7.0).season_ratio_ == 1.0


def test_takes_the_pareto_nbd_dynamics_level(panel):
    from models.clv_pareto_nbd import ParetoNBDModel
    from models.clv_pareto_nbd_gg import ParetoCLVModel

    X, y, cutoff, latest, _ = panel
    pareto = ParetoCLVModel(horizon_days=HORIZON_DAYS, n_draws=50, random_state=0)
    model = HybridCLVModel(dynamics=pareto, booster=booster(), dynamics_weight=0.5)
    model.fit(X, y, time=cutoff)
    assert isinstance(model.dynamics_.purchases_, ParetoNBDModel)
    alone = pareto.fit(X[latest]).predict(X[latest])
    assert model.predict(X[latest]).sum() == pytest.approx(alone.sum(), rel=1e-9)
    out = model.predict_frame(X[latest].iloc[:20])
    assert tuple(out.columns) == CLV_COLUMNS
    np.testing.assert_allclose(
        out["p_alive"], pareto.purchases_.predict_p_alive(X[latest].iloc[:20])
    )
