"""The churn pyfunc wrappers, called directly (the registry round trip is in tests/training)."""

import json

import numpy as np
import pandas as pd
import pytest

from models.churn_classifier import ChurnClassifier
from models.churn_weibull import ChurnWeibullModel
from models.pyfunc_churn import OUTPUT_COLUMNS, ChurnPyfunc
from models.pyfunc_churn_survival import ChurnSurvivalPyfunc, curve_json


@pytest.fixture(scope="module")
def churn_model(churn_panel):
    clf = ChurnClassifier(n_estimators=50, random_state=0, n_jobs=1, calibration_size=1)
    clf.fit(churn_panel.X, churn_panel.y, time=churn_panel.cutoff)
    templates = {"recency_days": "no order in {value:.0f} days"}
    return ChurnPyfunc(clf, templates, reasons=2)


def rows(X: pd.DataFrame, n: int) -> pd.DataFrame:
    out = X.head(n).copy()
    out.insert(0, "customer_id", [f"c{i}" for i in range(n)])
    out["as_of"] = pd.Timestamp("2025-01-01")  # present in the feature table; ignored
    return out


def test_churn_output_columns_order_and_probabilities(churn_model, churn_panel):
    X = rows(churn_panel.X, 40).iloc[::-1]
    out = churn_model.predict(None, X)
    assert tuple(out.columns) == OUTPUT_COLUMNS
    assert out["customer_id"].tolist() == X["customer_id"].tolist()
    expected = churn_model.classifier.predict_proba(churn_panel.X.head(40).iloc[::-1])[:, 1]
    np.testing.assert_allclose(out["p_churn"], expected)
    assert out["reason_3"].isna().all() and out["reason_3_feature"].isna().all()
    recency = out["reason_1_feature"] == "recency_days"
    assert recency.any()
    first = X.loc[recency.to_numpy(), "recency_days"].iloc[0]
    assert out.loc[recency, "reason_1"].iloc[0] == f"no order in {first:.0f} days"


def test_churn_without_reasons_skips_them(churn_model, churn_panel):
    out = churn_model.predict(None, rows(churn_panel.X, 5), params={"reasons": False})
    assert out[[c for c in OUTPUT_COLUMNS if c.startswith("reason")]].isna().all().all()


def test_churn_names_missing_columns(churn_model, churn_panel):
    with pytest.raises(ValueError, match=r"lacks 1 required column\(s\): \['visits_90d'\]"):
        churn_model.predict(None, rows(churn_panel.X, 5).drop(columns="visits_90d"))


def test_curve_json_is_compact_json():
    got = curve_json(np.array([[1.0, 0.96123, 0.0], [0.5, 0.25, 0.00004]]))
    assert got.tolist() == ["[1,0.9612,0]", "[0.5,0.25,0]"]
    assert json.loads(got[0]) == [1, 0.9612, 0]


@pytest.mark.parametrize("definition", ["inactivity", "cancellation"])
def test_survival_output_follows_the_churn_definition(weibull_sample, definition):
    model = ChurnWeibullModel(penalizer=0.0).fit(weibull_sample.X, weibull_sample.y)
    wrapper = ChurnSurvivalPyfunc(
        model, definition=definition, horizons_days=(30, 90), curve_days=(0, 30, 90)
    )
    X = weibull_sample.X.head(20).assign(customer_id=[f"c{i}" for i in range(20)])
    out = wrapper.predict(None, X)
    assert list(out.columns) == [
        "customer_id",
        "p_churn_30d",
        "p_churn_90d",
        "median_days_to_churn",
        "survival_curve",
    ]
    s = model.predict_survival_function(weibull_sample.X.head(20), [30, 90])
    expected = s if definition == "inactivity" else 1 - s
    np.testing.assert_allclose(out[["p_churn_30d", "p_churn_90d"]], expected)
    np.testing.assert_allclose(out["median_days_to_churn"], model.predict_median(X.iloc[:, :3]))
    curve = np.array([json.loads(c) for c in out["survival_curve"]])
    np.testing.assert_allclose(curve[:, 1:], s, atol=5e-5)
    assert (curve[:, 0] == 1).all()


def test_survival_rejects_an_unknown_definition(weibull_sample):
    model = ChurnWeibullModel().fit(weibull_sample.X, weibull_sample.y)
    with pytest.raises(ValueError, match="cancellation"):
        ChurnSurvivalPyfunc(model, definition="lapse")
