"""BetaGeoCLVModel: the CLV frame, its agreement with the parts, and calibrated intervals on
data simulated from the model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from models import metrics
from models._clv import CLV_COLUMNS
from models.clv_bgnbd_gg import BetaGeoCLVModel


@pytest.fixture(scope="module")
def fitted(purchase_sample):
    model = BetaGeoCLVModel(horizon_days=purchase_sample.horizon_days, n_draws=300, random_state=0)
    return model.fit(purchase_sample.X)


def test_clv_is_expected_orders_times_spend(fitted, purchase_sample):
    X = purchase_sample.X
    out = fitted.predict_frame(X)
    assert tuple(out.columns) == CLV_COLUMNS
    assert out.index.equals(X.index)
    orders = fitted.purchases_.predict_expected_orders(X, purchase_sample.horizon_days)
    np.testing.assert_allclose(out["expected_orders"], orders)
    np.testing.assert_allclose(out["clv"], orders * fitted.spend_.predict_spend(X))
    np.testing.assert_allclose(fitted.predict(X), out["clv"])
    np.testing.assert_allclose(out["p_alive"], fitted.purchases_.predict_p_alive(X))
    assert (out["clv_p10"] <= out["clv_p90"]).all()
    assert (out["clv_p10"] >= 0).all()


def test_level_ranking_and_intervals_on_simulated_customers(fitted, purchase_sample):
    out = fitted.predict_frame(purchase_sample.X)
    y = purchase_sample.future_spend
    assert metrics.total_error(y, out["clv"]) == pytest.approx(0.0, abs=0.1)
    # Zero is a common outcome with a mass point, so the interval covers at least 80%.
    coverage = metrics.interval_coverage(y, out["clv_p10"], out["clv_p90"])
    assert 0.78 <= coverage <= 0.92


def test_draws_are_seeded(fitted, purchase_sample):
    X = purchase_sample.X.iloc[:50]
    again = clone(fitted).fit(purchase_sample.X).predict_frame(X)
    np.testing.assert_allclose(again["clv_p90"], fitted.predict_frame(X)["clv_p90"])
