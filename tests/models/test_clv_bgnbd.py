"""BetaGeoModel: recovery of simulated parameters, closed forms against numerical
integration and posterior draws, input errors, and the published CDNOW parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from models.clv_bgnbd import BetaGeoModel, log_likelihood, summary_frame

BGNBD_TRUTH = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}  # as in conftest.simulate_bgnbd

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def fitted(purchase_sample):
    return BetaGeoModel().fit(purchase_sample.X)


def test_recovers_simulated_parameters(fitted):
    # 6,000 customers. The purchase rate (r, alpha) is well identified; a and b
    # individually are not (they trade off along a ridge), their mean a / (a + b) is.
    truth = BGNBD_TRUTH
    assert fitted.params_["r"] == pytest.approx(truth["r"], rel=0.1)
    assert fitted.params_["alpha"] == pytest.approx(truth["alpha"], rel=0.15)
    p = fitted.params_
    assert p["a"] / (p["a"] + p["b"]) == pytest.approx(
        truth["a"] / (truth["a"] + truth["b"]), rel=0.05
    )
    assert fitted.n_customers_ == 6000
    assert fitted.score(fitted_frame := summary_frame([0, 2], [0, 30], [100, 100])) < 0
    assert fitted_frame.shape == (2, 4)


def test_log_likelihood_matches_the_published_formula_term_by_term():
    r, alpha, a, b = 0.3, 5.0, 0.9, 2.0
    x, tx, T = np.array([0.0, 3.0]), np.array([0.0, 10.0]), np.array([20.0, 30.0])
    from math import gamma as G

    def beta(u, v):
        return G(u) * G(v) / G(u + v)

    expected = []
    for xi, txi, Ti in zip(x, tx, T, strict=True):
        a1 = beta(a, b + xi) / beta(a, b) * G(r + xi) * alpha**r / (G(r) * (alpha + Ti) ** (r + xi))
        a2 = 0.0
        if xi > 0:
            a2 = (
                beta(a + 1, b + xi - 1)
                / beta(a, b)
                * G(r + xi)
                * alpha**r
                / (G(r) * (alpha + txi) ** (r + xi))
            )
        expected.append(np.log(a1 + a2))
    np.testing.assert_allclose(log_likelihood((r, alpha, a, b), x, tx, T), expected, rtol=1e-12)


def conditional_expectation_by_integration(params, x, tx, T, t):
    """P(alive) x E over the posterior of (lambda, p) of (1 - exp(-lambda p t)) / p.

    Given alive, lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x); the lambda part
    has the closed form 1 - ((alpha + T) / (alpha + T + p t)) ** (r + x), the p part is a
    numerical integral (the formula under test does it with a hypergeometric function).
    """
    r, alpha, a, b = params
    odds = a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x) if x > 0 else 0.0
    p_post = stats.beta(a, b + x)

    def integrand(p):
        return (1 - ((alpha + T) / (alpha + T + p * t)) ** (r + x)) / p * p_post.pdf(p)

    value, _ = integrate.quad(integrand, 0, 1, epsabs=1e-12, limit=200)
    return value / (1 + odds)


@pytest.mark.parametrize(("x", "tx", "T"), [(0, 0, 30.0), (1, 5.0, 30.0), (4, 28.0, 30.0)])
def test_expected_orders_match_numerical_integration(fitted, x, tx, T):
    params = tuple(fitted.params_[k] for k in ("r", "alpha", "a", "b"))
    X = summary_frame([x], [7 * tx], [7 * T])
    got = fitted.predict_expected_orders(X, horizon_days=7 * 26)[0]
    assert got == pytest.approx(
        conditional_expectation_by_integration(params, x, tx, T, 26.0), rel=1e-5
    )


def test_p_alive_and_p_purchase_closed_forms(fitted):
    X = summary_frame([0, 3, 3], [0, 70, 210], [210, 210, 210])
    alive = fitted.predict_p_alive(X)
    assert alive[0] == 1.0  # no repeat purchase: BG/NBD never lets them drop out
    assert alive[1] < alive[2] < 1.0  # a recent last purchase makes "alive" likelier
    r, alpha, a, b = (fitted.params_[k] for k in ("r", "alpha", "a", "b"))
    odds = a / (b + 2) * ((alpha + 30) / (alpha + 10)) ** (r + 3)
    assert alive[1] == pytest.approx(1 / (1 + odds))
    buy = fitted.predict_p_purchase(X, 7 * 26)
    assert buy[1] == pytest.approx(alive[1] * (1 - ((alpha + 30) / (alpha + 56)) ** (r + 3)))


def test_posterior_draws_match_the_closed_forms(fitted, purchase_sample):
    X = purchase_sample.X.iloc[:300]
    draws = fitted.sample_orders(X, 182, n_draws=4000, random_state=0)
    expected = fitted.predict_expected_orders(X, 182)
    # Each row's mean over 4,000 draws is within a few standard errors of the closed form.
    se = draws.std(axis=1) / np.sqrt(4000) + 1e-3
    assert np.max(np.abs(draws.mean(axis=1) - expected) / se) < 5
    buy = fitted.predict_p_purchase(X, 182)
    np.testing.assert_allclose((draws > 0).mean(axis=1), buy, atol=0.03)


def test_predictions_track_the_simulated_future(fitted, purchase_sample):
    expected = fitted.predict_expected_orders(purchase_sample.X, purchase_sample.horizon_days)
    assert expected.sum() == pytest.approx(purchase_sample.future_orders.sum(), rel=0.1)


def test_input_errors():
    model = BetaGeoModel()
    with pytest.raises(ValueError, match="no frequency column 'repeat_purchase_days'"):
        model.fit(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match=r"break 0 <= purchase_span_days <= days_since_first"):
        model.fit(summary_frame([1, 2], [5, 50], [10, 40]))
    with pytest.raises(ValueError, match="not a whole number >= 0; first: row 1"):
        model.fit(summary_frame([1, 1.5], [5, 5], [10, 10]))
    with pytest.raises(ValueError, match="span_days > 0 but no repeat purchase"):
        model.fit(summary_frame([0], [3], [10]))
    with pytest.raises(ValueError, match=r"miss \(repeat_purchase_days"):
        model.fit(summary_frame([np.nan], [0], [10]))
    fitted = BetaGeoModel().fit(summary_frame([0, 1, 2, 0], [0, 5, 20, 0], [10, 30, 40, 7]))
    with pytest.raises(ValueError, match="horizon_days must be finite and > 0"):
        fitted.predict_expected_orders(summary_frame([0], [0], [5]), 0)


# --------------------------------------------------------------- the published CDNOW fit


def cdnow_sample_calibration(path) -> pd.DataFrame:
    """The classic 39-week calibration of CDNOW_sample: purchases up to 1997-09-30,
    repeat purchases counted as distinct purchase days; T runs to the period's last day."""
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["id", "id2", "date", "cds", "usd"])
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    last_day = pd.Timestamp("1997-09-30")
    days = raw[raw.date <= last_day].groupby(["id", "date"]).usd.sum().reset_index()
    g = days.groupby("id")
    return summary_frame(
        g.size() - 1, (g.date.max() - g.date.min()).dt.days, (last_day - g.date.min()).dt.days
    )


def test_reproduces_the_published_cdnow_sample_parameters(shared_data):
    X = cdnow_sample_calibration(shared_data / "cdnow" / "CDNOW_sample.txt")
    model = BetaGeoModel().fit(X)
    assert len(X) == 2357
    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, abs=6e-4), name
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)


def test_matches_lifetimes_on_the_cdnow_sample(shared_data):
    lifetimes = pytest.importorskip("lifetimes", reason="lifetimes is in the bench extra")
    X = cdnow_sample_calibration(shared_data / "cdnow" / "CDNOW_sample.txt")
    ours = BetaGeoModel().fit(X)
    ref = lifetimes.BetaGeoFitter().fit(
        X.repeat_purchase_days, X.purchase_span_days / 7, X.days_since_first_purchase / 7
    )
    for name in PUBLISHED:
        assert ours.params_[name] == pytest.approx(ref.params_[name], rel=1e-4)
    t = 26.0
    theirs = ref.conditional_expected_number_of_purchases_up_to_time(
        t, X.repeat_purchase_days, X.purchase_span_days / 7, X.days_since_first_purchase / 7
    )
    np.testing.assert_allclose(ours.predict_expected_orders(X, 7 * t), theirs, rtol=1e-4)
    alive = ref.conditional_probability_alive(
        X.repeat_purchase_days, X.purchase_span_days / 7, X.days_since_first_purchase / 7
    )
    np.testing.assert_allclose(ours.predict_p_alive(X), alive, rtol=1e-4)
