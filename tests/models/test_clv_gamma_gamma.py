"""GammaGammaModel: recovery of simulated parameters, the shrinkage formula on literal rows,
posterior spend draws, and the published CDNOW sample parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

from models.clv_gamma_gamma import GammaGammaModel, log_likelihood

GG_TRUTH = {"p": 6.0, "q": 4.0, "gamma": 15.0}  # as in conftest.simulate_bgnbd


def frame(x, m):
    return pd.DataFrame({"repeat_purchase_days": x, "repeat_spend_mean": m}, dtype=float)


def test_recovers_the_simulated_population_mean_spend(purchase_sample):
    model = GammaGammaModel().fit(purchase_sample.X)
    t = GG_TRUTH
    # p, q and gamma trade off; the population mean p gamma / (q - 1) is well identified.
    assert model.population_spend() == pytest.approx(t["p"] * t["gamma"] / (t["q"] - 1), rel=0.05)
    assert model.params_["p"] == pytest.approx(t["p"], rel=0.25)
    assert model.n_customers_ == int((purchase_sample.X.repeat_purchase_days > 0).sum())
    assert model.n_zero_spend_ == 0


def test_zero_spend_repeaters_are_left_out_of_the_fit_only():
    X = frame([1, 2, 3, 5, 1, 2, 2], [10, 30, 20, 25, 40, 15, 0])
    model = GammaGammaModel().fit(X)
    assert (model.n_customers_, model.n_zero_spend_) == (6, 1)
    same = GammaGammaModel().fit(X.iloc[:6])
    assert model.params_ == pytest.approx(same.params_)
    assert model.predict_spend(X.iloc[[6]])[0] < model.population_spend()


def test_log_likelihood_is_the_density_of_the_mean_of_gammas():
    # The mean of x Gamma(p, nu) values is Gamma(p x, nu x); integrate nu ~ Gamma(q, gamma).
    p, q, g, x, m = 2.0, 3.0, 10.0, 3.0, 7.0
    nu = np.linspace(1e-4, 5, 400_001)
    log_mean_density = (
        (p * x) * np.log(nu * x) + (p * x - 1) * np.log(m) - nu * x * m - gammaln(p * x)
    )
    log_prior = q * np.log(g) + (q - 1) * np.log(nu) - g * nu - gammaln(q)
    numeric = np.log(np.trapezoid(np.exp(log_mean_density + log_prior), nu))
    assert log_likelihood((p, q, g), np.array([x]), np.array([m]))[0] == pytest.approx(
        numeric, rel=1e-6
    )


def test_predicted_spend_is_a_weighted_mean_of_own_and_population():
    model = GammaGammaModel().fit(frame([1, 2, 3, 5, 1, 2], [10, 30, 20, 25, 40, 15]))
    p, q, g = (model.params_[k] for k in ("p", "q", "gamma"))
    pop = p * g / (q - 1)
    got = model.predict_spend(frame([0, 4, 1], [np.nan, 50.0, 5.0]))
    w4, w1 = p * 4 / (p * 4 + q - 1), p / (p + q - 1)
    np.testing.assert_allclose(got, [pop, w4 * 50 + (1 - w4) * pop, w1 * 5 + (1 - w1) * pop])


def test_total_spend_draws_average_to_orders_times_spend(purchase_sample):
    model = GammaGammaModel().fit(purchase_sample.X)
    X = purchase_sample.X.iloc[:200]
    orders = np.tile(np.array([0, 1, 3]), (200, 2000))[:, :2000]
    draws = model.sample_total_spend(X, orders, random_state=1)
    assert (draws[orders == 0] == 0).all()
    for k in (1, 3):
        mean = np.where(orders == k, draws, np.nan)
        got = np.nanmean(mean, axis=1)
        np.testing.assert_allclose(got, k * model.predict_spend(X), rtol=0.12)


def test_input_errors():
    with pytest.raises(ValueError, match="have repeat purchases but repeat_spend_mean missing"):
        GammaGammaModel().fit(frame([1, 2], [10.0, np.nan]))
    with pytest.raises(ValueError, match="repeat_spend_mean missing or < 0"):
        GammaGammaModel().fit(frame([1, 2], [10.0, -1.0]))
    with pytest.raises(ValueError, match="of positive value; X has 1"):
        GammaGammaModel().fit(frame([0, 2, 0], [np.nan, 10, np.nan]))
    with pytest.raises(ValueError, match="no monetary column 'repeat_spend_mean'"):
        GammaGammaModel().fit(pd.DataFrame({"repeat_purchase_days": [1.0, 2.0]}))


def test_reproduces_the_published_cdnow_sample_parameters(shared_data):
    raw = pd.read_csv(
        shared_data / "cdnow" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["id", "id2", "date", "cds", "usd"],
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    days = raw[raw.date <= "1997-09-30"].groupby(["id", "date"]).usd.sum().reset_index()
    days["k"] = days.groupby("id").cumcount()
    repeat = days[days.k > 0].groupby("id").usd
    X = frame(repeat.size(), repeat.mean())
    model = GammaGammaModel().fit(X)
    assert len(X) == 946
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert model.params_[name] == pytest.approx(value, abs=0.006), name
