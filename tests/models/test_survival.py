"""The survival target and the sklearn contract shared by the Cox and Weibull models.

``parametrize_with_checks`` cannot run on these models: every check fits on a generated
classification or regression ``y``, and a survival ``y`` (duration and event together) is
neither. The checks that never call ``fit`` run as they are; the rest of the contract
(clone, fit returns self, learned state ends in ``_``, the input is untouched, pickling,
feature names) is tested directly below.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from models.churn_cox import ChurnCoxModel
from models.churn_weibull import ChurnWeibullModel
from models.survival import survival_target, whole_days

MODELS = [ChurnCoxModel, ChurnWeibullModel]


def small_sample():
    X = pd.DataFrame(
        {
            "tenure_days": [10.0, 200.0, np.nan, 45.0, 300.0, 90.0, 15.0, 120.0],
            "channel": ["web", "store", "web", None, "store", "app", "web", "store"],
        }
    )
    y = survival_target([12, 300, 40, 30.5, 250, 80, 5, 180], [1, 0, 1, 1, 0, 1, 1, 0])
    return X, y


@pytest.fixture(scope="module", params=MODELS, ids=lambda cls: cls.__name__)
def fitted(request):
    """Each model fitted once on the small sample (lifelines' optimizer is slow to start)."""
    X, y = small_sample()
    return request.param(penalizer=0.1).fit(X, y)


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize(
    "check",
    [
        check_parameters_default_constructible,
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_set_params,
    ],
)
def test_sklearn_checks_that_need_no_fit(cls, check):
    check(cls.__name__, cls())


@pytest.mark.parametrize("cls", MODELS)
def test_fit_returns_self_and_leaves_input_untouched(cls):
    X, y = small_sample()
    X_before, y_before = X.copy(), y.copy()
    model = cls(penalizer=0.1)
    assert model.fit(X, y) is model
    pd.testing.assert_frame_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    assert model.n_features_in_ == 2
    assert list(model.feature_names_in_) == ["tenure_days", "channel"]
    assert model.medians_ == {"tenure_days": 90.0}
    assert model.schema_.categories == {"channel": ("store", "web", "app")}
    assert set(vars(model)) - set(model.get_params()) == {
        "n_features_in_",
        "feature_names_in_",
        "schema_",
        "medians_",
        "design_columns_",
        "fitter_",
    }


def test_clone_pickle_and_refit_agree(fitted):
    X, y = small_sample()
    model = fitted
    again = clone(model).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    expected = model.predict_churn_probability(X)
    np.testing.assert_allclose(again.predict_churn_probability(X), expected)
    np.testing.assert_allclose(restored.predict_churn_probability(X), expected)
    assert clone(model).get_params() == {"alpha": 0.05, "l1_ratio": 0.0, "penalizer": 0.1}


@pytest.mark.parametrize("cls", MODELS)
def test_predict_before_fit_raises(cls):
    X, _ = small_sample()
    for method in ("predict_median", "predict_churn_probability"):
        with pytest.raises(NotFittedError):
            getattr(cls(), method)(X)


def test_feature_names_must_match(fitted):
    X, _ = small_sample()
    model = fitted
    with pytest.raises(ValueError, match="feature names"):
        model.predict_median(X.rename(columns={"tenure_days": "tenure"}))
    with pytest.raises(ValueError, match="feature names"):
        model.predict_median(X[["channel", "tenure_days"]])


def test_shapes(fitted):
    X, _ = small_sample()
    model = fitted
    assert model.predict_survival_function(X, [7, 30]).shape == (8, 2)
    assert model.predict_churn_probability(X, horizons_days=[30]).shape == (8, 1)
    assert model.predict_churn_probability(X).shape == (8, 3)
    assert model.predict_median(X).shape == (8,)


@pytest.mark.parametrize("cls", MODELS)
def test_array_input_is_all_numeric(cls):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    y = survival_target(rng.integers(1, 100, 60), rng.random(60) < 0.7)
    model = cls(penalizer=0.1).fit(X, y)
    assert model.design_columns_ == ("x0", "x1")
    assert model.predict_median(X).shape == (60,)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.array([1.0, 2.0]), "survival_target"),
        (survival_target([1, 2, 3], [0, 0, 0]), "no churn event"),
        (survival_target([1, -2, 3], [1, 0, 1]), "row 1 is -2.0"),
        (survival_target([1, np.nan, 3], [1, 0, 1]), "row 1 is nan"),
        (pd.DataFrame({"duration_days": [1, 2, 3], "churned": [1, 0, 1]}), "'event'"),
        (survival_target([1, 2], [1, 0]), "X has 3 rows but y has 2"),
    ],
)
def test_bad_targets_are_named(y, message):
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0]})
    with pytest.raises((ValueError, TypeError), match=message):
        ChurnCoxModel().fit(X, y)


def test_target_from_a_frame_equals_the_structured_array():
    X, y = small_sample()
    frame = pd.DataFrame({"duration_days": y["duration_days"], "event": y["event"]})
    a = ChurnCoxModel(penalizer=0.1).fit(X, y).predict_median(X)
    b = ChurnCoxModel(penalizer=0.1).fit(X, frame).predict_median(X)
    np.testing.assert_array_equal(a, b)


def test_survival_target_and_whole_days():
    y = survival_target([0.5, 3], [True, False])
    assert y.dtype.names == ("event", "duration_days")
    assert y["event"].tolist() == [True, False]
    with pytest.raises(ValueError, match="row 1 is 2"):
        survival_target([1, 2], [0, 2])
    np.testing.assert_array_equal(
        whole_days(np.array([0.0, 0.2, 1.0, 1.01, 29.5])), [1, 1, 1, 2, 30]
    )


def test_constant_and_empty_columns_are_errors():
    X, y = small_sample()
    with pytest.raises(ValueError, match=r"constant column\(s\).*\['flag'\]"):
        ChurnCoxModel().fit(X.assign(flag=1.0), y)
    with pytest.raises(ValueError, match="'empty' has no non-missing value"):
        ChurnCoxModel().fit(X.assign(empty=np.nan), y)
    with pytest.raises(TypeError, match="'ts' has dtype datetime64"):
        ChurnCoxModel().fit(X.assign(ts=pd.Timestamp("2025-01-01")), y)


def test_bad_times_are_errors(fitted):
    X, _ = small_sample()
    model = fitted
    with pytest.raises(ValueError, match="horizons_days must be finite and >= 0"):
        model.predict_churn_probability(X, horizons_days=[-1])
    with pytest.raises(ValueError, match="non-empty"):
        model.predict_survival_function(X, [])
