"""ChurnCoxModel: simulate from known hazard ratios and recover them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from models.churn_cox import ChurnCoxModel
from models.survival import survival_target


@pytest.fixture(scope="module")
def fitted(weibull_sample):
    return ChurnCoxModel(penalizer=0.0).fit(weibull_sample.X, weibull_sample.y)


def test_recovers_log_hazard_ratios_within_four_standard_errors(fitted, weibull_sample):
    # A Weibull AFT truth is also proportional hazards, with log hazard ratio
    # -rho * AFT coefficient. n = 2000 (20% censored) gives standard errors of 0.03-0.07:
    # four of them bound each log hazard ratio to within 0.11-0.29.
    params, se = fitted.fitter_.params_, fitted.fitter_.standard_errors_
    for name, aft in weibull_sample.aft_coef.items():
        truth = -weibull_sample.rho * aft
        assert se[name] < 0.1, name
        assert abs(params[name] - truth) < 4 * se[name], (name, params[name], truth, se[name])


def test_survival_matches_lifelines_at_training_times(fitted, weibull_sample):
    X = weibull_sample.X.head(40)
    design = fitted._design(X)
    grid = fitted.fitter_.baseline_cumulative_hazard_.index.to_numpy()[::25]
    ours = fitted.predict_survival_function(X, grid)
    theirs = fitted.fitter_.predict_survival_function(design, times=grid).T.to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_survival_is_a_step_function_between_training_times(fitted, weibull_sample):
    grid = fitted.fitter_.baseline_cumulative_hazard_.index.to_numpy()
    X = weibull_sample.X.head(5)
    a, b = grid[10], grid[11]
    inside = fitted.predict_survival_function(X, [a, (a + b) / 2, np.nextafter(b, 0)])
    np.testing.assert_array_equal(inside[:, 0], inside[:, 1])
    np.testing.assert_array_equal(inside[:, 0], inside[:, 2])
    before = fitted.predict_survival_function(X, [0.0, grid[0] / 2])
    np.testing.assert_array_equal(before, 1.0)
    after = fitted.predict_survival_function(X, [grid[-1], grid[-1] + 1000])
    np.testing.assert_array_equal(after[:, 0], after[:, 1])


def test_median_matches_lifelines_including_inf(fitted, weibull_sample):
    X = weibull_sample.X
    ours = fitted.predict_median(X)
    theirs = fitted.fitter_.predict_median(fitted._design(X)).to_numpy().ravel()
    np.testing.assert_array_equal(ours, theirs)
    assert np.isinf(ours).any() and np.isfinite(ours).mean() > 0.9
    assert not np.isnan(ours).any()


def test_median_tracks_the_true_hazard(fitted, weibull_sample):
    # Smaller true log scale = higher hazard = earlier median.
    median = fitted.predict_median(weibull_sample.X)
    assert spearmanr(median, weibull_sample.log_scale).statistic > 0.95


def test_churn_probability_is_monotone_in_the_horizon(fitted, weibull_sample):
    p = fitted.predict_churn_probability(weibull_sample.X, horizons_days=(30, 60, 90))
    assert p.shape == (len(weibull_sample.X), 3)
    assert (np.diff(p, axis=1) > 0).all()
    assert ((p > 0) & (p < 1)).all()


def test_durations_are_rounded_up_to_whole_days():
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 0.5, 1.5]})
    y = survival_target([0.2, 1.0, 2.4, 3.0, 3.7, 0.0], [1, 1, 0, 1, 1, 0])
    model = ChurnCoxModel(penalizer=0.1).fit(X, y)
    # 0.2 -> 1, 1.0 -> 1, 2.4 -> 3, 3.0 -> 3, 3.7 -> 4, and 0.0 -> 1 (no zero durations)
    assert list(model.fitter_.baseline_cumulative_hazard_.index) == [1.0, 3.0, 4.0]
    assert sorted(model.fitter_.durations.tolist()) == [1.0, 1.0, 1.0, 3.0, 3.0, 4.0]
