"""BoostedCLVModel: the sklearn contract, recovery of a known hurdle truth, the
zero-inflated gamma head against scipy and simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.utils.estimator_checks import parametrize_with_checks

from models import metrics
from models._clv import CLV_COLUMNS
from models.clv_boosted import BoostedCLVModel, _gamma_shape, zero_inflated_gamma_quantile


# A few fast trees; the default learning rate would underfit the checks' tiny samples.
@parametrize_with_checks(
    [
        BoostedCLVModel(
            n_estimators=50, learning_rate=0.3, min_child_samples=2, random_state=0, n_jobs=1
        )
    ]
)
def test_sklearn_contract(estimator, check):
    check(estimator)


SHAPE = 2.0


def simulate_hurdle(n: int, seed: int):
    """P(buy) logistic in x0, spend | buy ~ Gamma(SHAPE, mean exp(3 + 0.5 x1)); x2 is noise."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["x0", "x1", "x2"])
    X["segment"] = pd.Categorical(rng.choice(["a", "b"], n))
    p_buy = 1 / (1 + np.exp(-(-1.0 + 1.5 * X.x0 + 0.5 * (X.segment == "b"))))
    mean = np.exp(3 + 0.5 * X.x1)
    y = np.where(rng.random(n) < p_buy, rng.gamma(SHAPE, mean / SHAPE), 0.0)
    return X, y, (p_buy * mean).to_numpy(), p_buy.to_numpy(), mean.to_numpy()


@pytest.fixture(scope="module")
def fitted():
    X, y, *_ = simulate_hurdle(6000, seed=1)
    return BoostedCLVModel(n_estimators=200, random_state=0, n_jobs=1).fit(X, y)


def test_recovers_the_hurdle_truth(fitted):
    X, y, truth, p_buy, mean = simulate_hurdle(3000, seed=2)
    pred = fitted.predict(X)
    assert np.corrcoef(pred, truth)[0, 1] > 0.9
    assert pred.sum() == pytest.approx(truth.sum(), rel=0.05)
    assert np.corrcoef(fitted.predict_p_purchase(X), p_buy)[0, 1] > 0.9
    assert fitted.spend_shape_ == pytest.approx(SHAPE, rel=0.15)


def test_interval_covers_80_percent_of_fresh_outcomes(fitted):
    X, y, *_ = simulate_hurdle(3000, seed=3)
    out = fitted.predict_frame(X)
    assert tuple(out.columns) == CLV_COLUMNS
    assert out[["p_alive", "expected_orders"]].isna().all().all()
    np.testing.assert_allclose(out["clv"], fitted.predict(X))
    # a point mass at zero makes the coverage of [P10, P90] at least 80%
    assert 0.78 <= metrics.interval_coverage(y, out["clv_p10"], out["clv_p90"]) <= 0.9


def test_zero_inflated_gamma_quantile_against_simulation():
    rng = np.random.default_rng(0)
    p_buy, mean, shape = np.array([0.05, 0.3, 0.95]), np.array([50.0, 80.0, 20.0]), 1.7
    for q in (0.1, 0.5, 0.9):
        got = zero_inflated_gamma_quantile(q, p_buy, mean, shape)
        for i in range(3):
            draws = np.where(
                rng.random(400_000) < p_buy[i], rng.gamma(shape, mean[i] / shape, 400_000), 0
            )
            assert got[i] == pytest.approx(np.quantile(draws, q), rel=0.02, abs=1e-9)
    # below the mass at zero the quantile is exactly 0
    assert zero_inflated_gamma_quantile(0.9, np.array([0.1]), np.array([5.0]), 2.0)[0] == 0.0
    expected = stats.gamma.ppf((0.9 - 0.5) / 0.5, 2.0, scale=2.5)
    assert zero_inflated_gamma_quantile(0.9, np.array([0.5]), np.array([5.0]), 2.0)[
        0
    ] == pytest.approx(expected)


def test_gamma_shape_is_the_maximum_likelihood_estimate():
    rng = np.random.default_rng(4)
    mean = rng.gamma(2.0, 20.0, 20_000)
    y = rng.gamma(3.0, mean / 3.0)
    assert _gamma_shape(y, mean) == pytest.approx(3.0, rel=0.05)


def test_target_errors():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"finite revenue >= 0; row 1 is -2.0"):
        BoostedCLVModel().fit(X, [0.0, -2.0, 1.0, 3.0])
    with pytest.raises(ValueError, match="at least two rows with revenue"):
        BoostedCLVModel().fit(X, [0.0, 0.0, 1.0, 0.0])
    everyone = BoostedCLVModel(n_estimators=5, min_child_samples=1).fit(X, [1.0, 2.0, 1.0, 3.0])
    assert everyone.classifier_ is None
    assert (everyone.predict_p_purchase(X) == 1).all()
