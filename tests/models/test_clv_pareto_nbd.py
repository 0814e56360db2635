"""ParetoNBDModel and ParetoCLVModel: the likelihood and the expectation against numerical
integration, recovery of simulated parameters, posterior draws, and the published CDNOW
parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import gammaln

from models import metrics
from models._clv import CLV_COLUMNS
from models.clv_bgnbd import summary_frame
from models.clv_pareto_nbd import ParetoNBDModel, log_likelihood
from models.clv_pareto_nbd_gg import ParetoCLVModel

TRUTH = {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}  # near the CDNOW fit, in weeks
SPEND = {"p": 6.0, "q": 4.0, "gamma": 15.0}
PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}  # FH (2005), CDNOW


def simulate(n: int, seed: int, *, horizon_weeks: float = 26.0):
    """Pareto/NBD histories (first purchases over weeks 0-12, cutoff at week 39) with
    Gamma-Gamma spend; returns the summary frame, future purchase days and future spend.

    Given the number of purchases in an interval, a Poisson process puts them uniformly,
    so the last one is the maximum of that many uniforms.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUTH["r"], 1.0 / TRUTH["alpha"], n)
    mu = rng.gamma(TRUTH["s"], 1.0 / TRUTH["beta"], n)
    nu = rng.gamma(SPEND["q"], 1.0 / SPEND["gamma"], n)
    first = rng.uniform(0.0, 12.0, n)
    death = first + rng.exponential(1.0 / mu)
    cutoff, end = 39.0, 39.0 + horizon_weeks
    active = np.minimum(death, cutoff) - first
    x = rng.poisson(lam * active)
    last = np.array([active[i] * rng.random(k).max() if k else 0.0 for i, k in enumerate(x)])
    future = rng.poisson(lam * np.clip(np.minimum(death, end) - cutoff, 0.0, None))
    spend = np.array(
        [rng.gamma(SPEND["p"], 1.0 / nu[i], k).mean() if k else np.nan for i, k in enumerate(x)]
    )
    future_spend = np.array(
        [rng.gamma(SPEND["p"], 1.0 / nu[i], k).sum() for i, k in enumerate(future)]
    )
    X = summary_frame(x, 7.0 * last, 7.0 * (cutoff - first), spend)
    return X, future, future_spend, 7.0 * horizon_weeks


@pytest.fixture(scope="module")
def sample():
    return simulate(5000, seed=3)


@pytest.fixture(scope="module")
def fitted(sample):
    return ParetoNBDModel().fit(sample[0])


def likelihood_by_integration(params, x, tx, T) -> float:
    """The likelihood as alive at T or dead at some tau in (t_x, T], each averaged over the
    gamma mixing distributions (closed forms for fixed times), the tau integral numerical:
    ``G(r+x) alpha^r / G(r) [(alpha+T)^-(r+x) (beta/(beta+T))^s
    + int_tx^T s beta^s (beta+tau)^-(s+1) (alpha+tau)^-(r+x) dtau]``."""
    r, alpha, s, beta = params
    const = np.exp(gammaln(r + x) - gammaln(r)) * alpha**r
    alive = (alpha + T) ** -(r + x) * (beta / (beta + T)) ** s
    dead, _ = integrate.quad(
        lambda tau: s * beta**s * (beta + tau) ** -(s + 1) * (alpha + tau) ** -(r + x),
        tx,
        T,
        epsabs=1e-15,
        epsrel=1e-12,
    )
    return const * (alive + dead)


@pytest.mark.parametrize(
    "params", [(0.55, 10.0, 0.6, 12.0), (0.8, 6.0, 1.3, 3.0)], ids=["alpha<beta", "alpha>beta"]
)
@pytest.mark.parametrize(("x", "tx", "T"), [(0, 0.0, 20.0), (2, 8.0, 20.0), (5, 20.0, 20.0)])
def test_log_likelihood_matches_numerical_integration(params, x, tx, T):
    got = log_likelihood(params, np.array([float(x)]), np.array([tx]), np.array([T]))[0]
    assert got == pytest.approx(np.log(likelihood_by_integration(params, x, tx, T)), rel=1e-9)


def test_recovers_simulated_parameters(fitted):
    p = fitted.params_
    # The purchase rate is well identified; the dropout rate's shape and scale trade off
    # along a ridge, their mean s / beta is identified.
    assert p["r"] == pytest.approx(TRUTH["r"], rel=0.15)
    assert p["r"] / p["alpha"] == pytest.approx(TRUTH["r"] / TRUTH["alpha"], rel=0.1)
    assert p["s"] / p["beta"] == pytest.approx(TRUTH["s"] / TRUTH["beta"], rel=0.3)
    assert fitted.n_customers_ == 5000


def expectation_by_integration(model, x, tx, T, t) -> float:
    """P(alive) x E[lambda] x E[(1 - e^{-mu t}) / mu], the posteriors of lambda and mu
    given alive at T being Gamma(r + x, alpha + T) and Gamma(s, beta + T)."""
    r, alpha, s, beta = (model.params_[k] for k in ("r", "alpha", "s", "beta"))
    post = stats.gamma(s, scale=1 / (beta + T))
    value, _ = integrate.quad(lambda mu: -np.expm1(-mu * t) / mu * post.pdf(mu), 0, np.inf)
    alive = model.predict_p_alive(summary_frame([x], [7 * tx], [7 * T]))[0]
    return alive * (r + x) / (alpha + T) * value


@pytest.mark.parametrize(("x", "tx", "T"), [(0, 0, 30.0), (1, 5.0, 30.0), (4, 28.0, 30.0)])
def test_expected_orders_match_numerical_integration(fitted, x, tx, T):
    got = fitted.predict_expected_orders(summary_frame([x], [7 * tx], [7 * T]), 7 * 26)[0]
    assert got == pytest.approx(expectation_by_integration(fitted, x, tx, T, 26.0), rel=1e-6)


def test_p_alive_falls_with_a_long_silence(fitted):
    alive = fitted.predict_p_alive(summary_frame([0, 3, 3, 3], [0, 70, 200, 210], [210] * 4))
    assert alive[1] < alive[2] < alive[3] == 1.0  # a recent last purchase: likelier alive
    assert alive[0] < 1.0  # unlike BG/NBD, a one-time buyer can have dropped out


def test_posterior_draws_match_the_closed_form(fitted, sample):
    X = sample[0].iloc[:300]
    draws = fitted.sample_orders(X, 182, n_draws=4000, random_state=0)
    expected = fitted.predict_expected_orders(X, 182)
    se = draws.std(axis=1) / np.sqrt(4000) + 1e-3
    assert np.max(np.abs(draws.mean(axis=1) - expected) / se) < 5


def test_predictions_track_the_simulated_future(fitted, sample):
    X, future, _, horizon_days = sample
    assert fitted.predict_expected_orders(X, horizon_days).sum() == pytest.approx(
        future.sum(), rel=0.1
    )


def test_clv_model_multiplies_orders_by_spend_and_covers(sample):
    X, _, future_spend, horizon_days = sample
    model = ParetoCLVModel(horizon_days=horizon_days, n_draws=300, random_state=0).fit(X)
    assert isinstance(model.purchases_, ParetoNBDModel)
    out = model.predict_frame(X)
    assert tuple(out.columns) == CLV_COLUMNS
    orders = model.purchases_.predict_expected_orders(X, horizon_days)
    np.testing.assert_allclose(out["clv"], orders * model.spend_.predict_spend(X))
    np.testing.assert_allclose(out["p_alive"], model.purchases_.predict_p_alive(X))
    assert metrics.total_error(future_spend, out["clv"]) == pytest.approx(0.0, abs=0.1)
    assert 0.78 <= metrics.interval_coverage(future_spend, out["clv_p10"], out["clv_p90"]) <= 0.95


def cdnow_sample_calibration(path) -> pd.DataFrame:
    """The classic 39-week calibration of CDNOW_sample (as in test_clv_bgnbd)."""
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
    model = ParetoNBDModel().fit(X)
    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, abs=6e-4), name
    assert model.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)


def test_matches_lifetimes_on_the_cdnow_sample(shared_data):
    lifetimes = pytest.importorskip("lifetimes", reason="lifetimes is in the bench extra")
    X = cdnow_sample_calibration(shared_data / "cdnow" / "CDNOW_sample.txt")
    ours = ParetoNBDModel().fit(X)
    x, tx, T = X.repeat_purchase_days, X.purchase_span_days / 7, X.days_since_first_purchase / 7
    ref = lifetimes.ParetoNBDFitter().fit(x, tx, T)
    theirs = ref.conditional_expected_number_of_purchases_up_to_time(26.0, x, tx, T)
    np.testing.assert_allclose(ours.predict_expected_orders(X, 7 * 26.0), theirs, rtol=1e-3)
    alive = ref.conditional_probability_alive(x, tx, T)
    np.testing.assert_allclose(ours.predict_p_alive(X), alive, atol=1e-4)
