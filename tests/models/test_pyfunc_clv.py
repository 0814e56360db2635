"""The clv pyfunc: new customers get the learned rates, purchasers the hybrid's frame, row
order and customer ids are kept, and a missing feature column is a clear error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models._clv import AGE, CLV_COLUMNS
from models.clv_bgnbd_gg import BetaGeoCLVModel
from models.clv_boosted import BoostedCLVModel
from models.clv_hybrid import HybridCLVModel
from models.pyfunc_clv import CLVPyfunc, NewCustomerRates


def test_new_customer_rates_are_means_and_quantiles():
    rates = NewCustomerRates.learn([0.0] * 8 + [10.0, 30.0], [0] * 8 + [1, 2])
    assert rates == NewCustomerRates(
        clv=4.0, clv_p10=0.0, clv_p90=pytest.approx(12.0), expected_orders=0.3
    )
    assert NewCustomerRates.learn([], []) == NewCustomerRates(0.0, 0.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def pyfunc(purchase_panel):
    X, cutoff = purchase_panel.X, purchase_panel.cutoff
    latest = cutoff == cutoff.max()
    y = np.where(latest, np.nan, purchase_panel.y)
    model = HybridCLVModel(
        dynamics=BetaGeoCLVModel(horizon_days=182, n_draws=50, random_state=0),
        booster=BoostedCLVModel(n_estimators=30, random_state=0, n_jobs=1),
    ).fit(X, y, time=cutoff)
    return CLVPyfunc(model, NewCustomerRates(5.0, 0.0, 20.0, 0.1)), X[latest]


def test_scores_rows_in_order_with_new_customers(pyfunc):
    wrapped, X = pyfunc
    rows = X.head(4).reset_index(drop=True)
    rows.loc[1, list(X.columns)] = np.nan  # signed up, never bought
    rows.insert(0, "customer_id", ["c9", "c1", "c5", "c2"])
    rows["as_of"] = pd.Timestamp("2024-01-01")  # ignored
    out = wrapped.predict(None, rows)
    assert list(out.columns) == ["customer_id", *CLV_COLUMNS]
    assert list(out.customer_id) == ["c9", "c1", "c5", "c2"]
    assert out.loc[1, list(CLV_COLUMNS)].to_dict() == {
        "clv": 5.0,
        "clv_p10": 0.0,
        "clv_p90": 20.0,
        "p_alive": pytest.approx(np.nan, nan_ok=True),
        "expected_orders": 0.1,
    }
    bought = rows.drop(index=1)[list(X.columns)]
    expected = wrapped.model.predict_frame(bought)
    np.testing.assert_allclose(out.drop(index=1)["clv"], expected["clv"])
    np.testing.assert_allclose(out.drop(index=1)["p_alive"], expected["p_alive"])


def test_missing_feature_is_an_error(pyfunc):
    wrapped, X = pyfunc
    rows = X.head(2).drop(columns=AGE).assign(customer_id=["a", "b"])
    with pytest.raises(ValueError, match=f"did not get: \\['{AGE}'\\]"):
        wrapped.predict(None, rows)
