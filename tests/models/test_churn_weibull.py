"""ChurnWeibullModel: simulate from known AFT coefficients and recover them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from models.churn_weibull import ChurnWeibullModel


@pytest.fixture(scope="module")
def fitted(weibull_sample):
    return ChurnWeibullModel(penalizer=0.0).fit(weibull_sample.X, weibull_sample.y)


def test_recovers_coefficients_within_four_standard_errors(fitted, weibull_sample):
    # n = 2000 with 20% censoring gives standard errors of 0.017-0.047, so four of them
    # (a 1-in-15,000 miss for a correct estimator) pin each coefficient to within 0.07-0.19;
    # the bound on the standard error keeps the test from passing vacuously.
    params = fitted.fitter_.params_
    se = fitted.fitter_.standard_errors_
    truth_of = {**weibull_sample.aft_coef, "Intercept": weibull_sample.mu}
    for name, truth in truth_of.items():
        est, err = params[("lambda_", name)], se[("lambda_", name)]
        assert err < 0.06, name
        assert abs(est - truth) < 4 * err, (name, est, truth, err)
    log_rho = params[("rho_", "Intercept")]
    assert abs(log_rho - np.log(weibull_sample.rho)) < 4 * se[("rho_", "Intercept")]


def test_design_has_reference_coded_categorical(fitted):
    assert fitted.schema_.categories["channel"] == ("store", "web", "app")
    assert fitted.design_columns_ == ("recency_days_z", "visits_z", "channel=web", "channel=app")


def test_survival_and_median_match_lifelines(fitted, weibull_sample):
    X = weibull_sample.X.head(50)
    design = fitted._design(X)
    times = [1.0, 30.0, 60.0, 90.0, 365.0]
    ours = fitted.predict_survival_function(X, times)
    theirs = fitted.fitter_.predict_survival_function(design, times=times).T.to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    np.testing.assert_allclose(
        fitted.predict_median(X), fitted.fitter_.predict_median(design).to_numpy().ravel()
    )


def test_churn_probability_is_one_minus_survival_and_monotone(fitted, weibull_sample):
    X = weibull_sample.X
    p = fitted.predict_churn_probability(X)
    assert p.shape == (len(X), 3)
    np.testing.assert_allclose(p, 1 - fitted.predict_survival_function(X, [30, 60, 90]))
    assert (np.diff(p, axis=1) > 0).all()
    assert ((p > 0) & (p < 1)).all()


def test_median_tracks_the_true_scale(fitted, weibull_sample):
    median = fitted.predict_median(weibull_sample.X)
    assert np.isfinite(median).all()
    assert spearmanr(median, weibull_sample.log_scale).statistic > 0.99
    # The true median is exp(log_scale) * ln(2)^(1/rho).
    true_median = np.exp(weibull_sample.log_scale) * np.log(2) ** (1 / weibull_sample.rho)
    assert np.median(np.abs(np.log(median / true_median))) < 0.05


def test_missing_and_unseen_values_score_as_median_and_reference(fitted, weibull_sample):
    X = weibull_sample.X
    row = pd.DataFrame(
        {
            "recency_days_z": [np.nan, float(np.median(X["recency_days_z"]))],
            "visits_z": [0.5, 0.5],
            "channel": ["kiosk", "store"],
        }
    )
    p = fitted.predict_churn_probability(row)
    np.testing.assert_allclose(p[0], p[1])
