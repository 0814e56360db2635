"""RFMLogisticBaseline: the sklearn contract and column selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from models.rfm_baseline import RFMLogisticBaseline

RFM = ("recency_days", "visits_90d")


# Every check runs, with columns=None (all columns), the only setting an array allows.
@parametrize_with_checks([RFMLogisticBaseline()])
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_uses_only_the_named_columns(churn_panel):
    X, y = churn_panel.X, churn_panel.y
    model = RFMLogisticBaseline(columns=RFM).fit(X, y)
    alone = RFMLogisticBaseline().fit(X[list(RFM)], y)
    np.testing.assert_allclose(model.predict_proba(X), alone.predict_proba(X[list(RFM)]))
    assert list(model.feature_names_in_) == list(X.columns)
    # The object column "channel" is ignored, not an error.
    assert model.predict_proba(X).shape == (len(X), 2)


def test_learns_the_direction_of_recency_and_frequency(churn_panel):
    model = RFMLogisticBaseline(columns=RFM).fit(churn_panel.X, churn_panel.y)
    coef = model.pipeline_[-1].coef_.ravel()
    assert coef[0] > 0  # longer since last purchase -> more churn
    assert coef[1] < 0  # more visits -> less churn
    auc = roc_auc_score(churn_panel.y, model.predict_proba(churn_panel.X)[:, 1])
    assert 0.6 < auc < roc_auc_score(churn_panel.y, churn_panel.p_true)


def test_missing_values_are_imputed_and_flagged():
    X = pd.DataFrame(
        {"recency_days": [1.0, 2.0, np.nan, 40.0, 50.0, np.nan], "o": [1, 2, 3, 4, 5, 6]}
    )
    y = np.array([0, 0, 1, 1, 1, 1])
    model = RFMLogisticBaseline(columns=["recency_days"]).fit(X, y)
    imputer = model.pipeline_[0]
    assert imputer.statistics_.tolist() == [21.0]
    assert imputer.indicator_.features_.tolist() == [0]
    assert model.pipeline_[-1].coef_.shape == (1, 2)  # value + missing flag


def test_missing_and_non_numeric_columns_are_named():
    X = pd.DataFrame({"recency_days": [1.0, 2.0], "segment": ["a", "b"]})
    with pytest.raises(
        ValueError, match=r"\['frequency'\] not in X; X has: \['recency_days', 'segment'\]"
    ):
        RFMLogisticBaseline(columns=["recency_days", "frequency"]).fit(X, [0, 1])
    with pytest.raises(ValueError, match=r"must be numeric; \['segment'\]"):
        RFMLogisticBaseline(columns=["segment"]).fit(X, [0, 1])
