"""SurvivalCLVModel: the renewal sum on literal pmfs and against simulation, recovery of a
simulated cure-rate Weibull, and its forecasts on purchases simulated from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models._clv import CLV_COLUMNS, row_generators
from models.clv_survival import SurvivalCLVModel, _renewal_density, _simulate_counts

# log lambda and the cure logit are linear in log(1 + affinity), a fixed customer trait, so
# the model's assumption for later gaps (covariates held) is exactly the truth.
TRUTH = {"lambda0": np.log(40.0), "lambda_k": -0.5, "rho": 1.3, "cure0": -0.5, "cure_k": -0.6}
COVARIATES = ("affinity",)
CUTOFF_DAYS, HORIZON_DAYS = 365.0, 120


def test_renewal_density_on_literal_pmfs():
    # First purchase on day 1 with probability 0.5; then one every day for sure.
    first = np.array([[0.5, 0.0, 0.0]])
    gap = np.array([[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(_renewal_density(first, gap), [[0.5, 0.5, 0.5]])
    # A gap of 2 days with probability 0.4, else never: day 1, then day 3 with 0.4.
    first = np.array([[1.0, 0.0, 0.0, 0.0]])
    gap = np.array([[0.0, 0.4, 0.0, 0.0]])
    np.testing.assert_allclose(_renewal_density(first, gap), [[1.0, 0.0, 0.4, 0.0]])


def test_renewal_density_matches_simulated_counts():
    rng = np.random.default_rng(0)
    first = rng.dirichlet(np.ones(31), size=5)[:, :30] * 0.7
    gap = rng.dirichlet(np.ones(31), size=5)[:, :30] * 0.9
    streams = row_generators(np.arange(5, dtype=np.uint64), 1, "test")
    draws = _simulate_counts(first, gap, 20_000, streams)
    np.testing.assert_allclose(draws.mean(axis=1), _renewal_density(first, gap).sum(1), rtol=0.03)


def simulate_gaps(n: int, seed: int):
    """Cure-rate Weibull purchases; returns the gap table at the cutoff and the future."""
    rng = np.random.default_rng(seed)
    rows, future = [], np.zeros(n)
    for i in range(n):
        t, k = rng.uniform(0, 90), 0
        affinity = rng.gamma(2.0, 1.5)
        z = np.log1p(affinity)
        history = []
        while True:
            cured = rng.random() < 1 / (1 + np.exp(-(TRUTH["cure0"] + TRUTH["cure_k"] * z)))
            lam = np.exp(TRUTH["lambda0"] + TRUTH["lambda_k"] * z)
            nxt = np.inf if cured else t + lam * rng.weibull(TRUTH["rho"])
            history.append((t, k, nxt))
            if nxt >= CUTOFF_DAYS + HORIZON_DAYS:
                break
            t, k = nxt, k + 1
        for t_k, k_k, nxt_k in history:
            if t_k >= CUTOFF_DAYS:
                future[i] += 1
                continue
            seen = nxt_k < CUTOFF_DAYS
            rows.append(
                {
                    "customer_id": f"c{i}",
                    "affinity": affinity,
                    "repeat_purchase_days": float(k_k),
                    "repeat_spend_mean": 20.0 + (k_k > 0) * rng.gamma(5.0, 4.0) if k_k else np.nan,
                    "gap_days": (nxt_k if seen else CUTOFF_DAYS) - t_k,
                    "next_purchase": float(seen),
                }
            )
    return pd.DataFrame(rows).set_index("customer_id"), future


@pytest.fixture(scope="module")
def sample():
    return simulate_gaps(2500, seed=3)


@pytest.fixture(scope="module")
def fitted(sample):
    gaps, _ = sample
    return SurvivalCLVModel(
        horizon_days=HORIZON_DAYS, covariates=COVARIATES, penalizer=0.0, n_draws=300, random_state=0
    ).fit(gaps)


def test_recovers_the_cure_rate_weibull(fitted):
    p = fitted.fitter_.params_
    assert p["lambda_"]["Intercept"] == pytest.approx(TRUTH["lambda0"], abs=0.1)
    assert p["lambda_"]["affinity"] == pytest.approx(TRUTH["lambda_k"], abs=0.1)
    assert np.exp(p["rho_"]["Intercept"]) == pytest.approx(TRUTH["rho"], rel=0.08)
    assert p["cure_"]["Intercept"] == pytest.approx(TRUTH["cure0"], abs=0.2)
    assert p["cure_"]["affinity"] == pytest.approx(TRUTH["cure_k"], abs=0.2)


def test_forecasts_the_simulated_future(fitted, sample):
    gaps, future = sample
    open_gaps = gaps[gaps.next_purchase == 0]
    out = fitted.predict_frame(open_gaps)
    assert tuple(out.columns) == CLV_COLUMNS
    assert out["expected_orders"].sum() == pytest.approx(future.sum(), rel=0.1)
    np.testing.assert_allclose(out["expected_orders"], fitted.predict_expected_orders(open_gaps))
    np.testing.assert_allclose(out["clv"], fitted.predict(open_gaps))
    assert (out["clv_p10"] <= out["clv_p90"]).all()


def test_p_alive_is_the_cure_posterior(fitted, sample):
    gaps, _ = sample
    row = gaps[gaps.next_purchase == 0].iloc[[0]]
    p = fitted.fitter_.params_
    z = np.log1p(row["affinity"].iloc[0])
    cure = 1 / (1 + np.exp(-(p["cure_"]["Intercept"] + p["cure_"]["affinity"] * z)))
    lam = np.exp(p["lambda_"]["Intercept"] + p["lambda_"]["affinity"] * z)
    quiet = np.exp(-((row["gap_days"].iloc[0] / lam) ** np.exp(p["rho_"]["Intercept"])))
    expected = (1 - cure) * quiet / (cure + (1 - cure) * quiet)
    assert fitted.predict_p_alive(row)[0] == pytest.approx(expected)


def test_input_errors(sample):
    gaps, _ = sample
    with pytest.raises(ValueError, match="no covariate column 'tenure' \\(set covariates\\)"):
        SurvivalCLVModel(covariates=("tenure",)).fit(gaps)
    with pytest.raises(ValueError, match="horizon_days must be a whole number >= 1"):
        SurvivalCLVModel(horizon_days=10.5, covariates=COVARIATES).fit(gaps)
    bad = gaps.assign(gap_days=-1.0)
    with pytest.raises(ValueError, match="gap_days must be finite and >= 0"):
        SurvivalCLVModel(covariates=COVARIATES).fit(bad)


def test_interval_is_the_same_in_any_batch(fitted, sample):
    gaps, _ = sample
    open_gaps = gaps[gaps.next_purchase == 0]
    whole = fitted.predict_frame(open_gaps)
    part = fitted.predict_frame(open_gaps.iloc[::-3])
    for col in ("clv_p10", "clv_p90"):
        np.testing.assert_array_equal(part[col], whole.loc[part.index, col])
    assert (whole.clv_p90 > whole.clv_p10).sum() > 50  # draws, not a constant
