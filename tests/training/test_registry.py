"""Gates and promotion against a real (temporary) MLflow store."""

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.models import infer_signature

from features.config import Gate, PromotionParams
from features.errors import JourneyError
from training.registry import alias_version, check_gates, promote, register_challenger
from training.tracking import configure, pip_requirements


class Constant(mlflow.pyfunc.PythonModel):
    """A model that predicts one probability for everyone."""

    def __init__(self, p: float):
        self.p = p

    def predict(self, context, model_input, params=None):
        return pd.DataFrame({"churn_probability": np.full(len(model_input), self.p)})


X = pd.DataFrame({"recency_days": [1.0, 50.0]})


def train(p: float, metrics: dict, gates: dict):
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=Constant(p),
            input_example=X,
            signature=infer_signature(X, Constant(p).predict(None, X)),
            pip_requirements=pip_requirements(),
        )
        return register_challenger(info.model_uri, "churn", metrics, gates)


def test_check_gates_reports_each_bound():
    result = check_gates(
        {"roc_auc": 0.8, "brier": 0.3},
        {"roc_auc": Gate(min=0.7), "brier": Gate(max=0.2), "lift": Gate(min=1)},
    )
    assert not result.passed
    assert result.summary() == (
        "roc_auc=0.8000 >= 0.7 ok; brier=0.3000 <= 0.2 FAILED; lift=missing >= 1 FAILED"
    )


def test_gates_decide_registration_and_promotion_needs_a_better_score(mlflow_params):
    configure(mlflow_params)
    gates = {"roc_auc_vs_baseline": Gate(min=0.0)}
    assert train(0.1, {"roc_auc_vs_baseline": -0.01}, gates) is None
    assert alias_version("churn", "challenger") is None
    run = mlflow.search_runs(order_by=["start_time DESC"]).iloc[0]
    assert run["tags.registration.decision"] == "refused"

    v1 = train(0.2, {"roc_auc_vs_baseline": 0.02}, gates)
    rule = PromotionParams(metric="roc_auc")

    def evaluate(uri):
        # Score what the alias really points to: the loaded model's constant output.
        p = mlflow.pyfunc.load_model(uri).predict(X)["churn_probability"].iloc[0]
        return {"roc_auc": {0.2: 0.80, 0.3: 0.75, 0.4: 0.85}[round(float(p), 1)]}

    first = promote("churn", evaluate, rule, window="test")
    assert first.promoted and alias_version("churn", "champion") == v1

    v2 = train(0.3, {"roc_auc_vs_baseline": 0.01}, gates)
    worse = promote("churn", evaluate, rule, window="test")
    assert not worse.promoted and alias_version("churn", "champion") == v1
    tags = mlflow.MlflowClient().get_model_version("churn", v2).tags
    assert tags["promotion.decision"] == "not promoted"
    assert tags["promotion.champion_score"] == "0.800000"

    v3 = train(0.4, {"roc_auc_vs_baseline": 0.03}, gates)
    better = promote("churn", evaluate, rule, window="test")
    assert better.promoted and alias_version("churn", "champion") == v3
    assert (
        "promoted: challenger v3 roc_auc=0.8500 vs champion v1 roc_auc=0.8000" in better.describe()
    )


def test_promote_without_a_challenger_says_what_to_do(mlflow_params):
    configure(mlflow_params)
    with pytest.raises(JourneyError, match="journey train churn"):
        promote("churn", lambda uri: {}, PromotionParams(metric="roc_auc"), window="w")


def test_logged_model_keeps_its_signature(mlflow_params):
    configure(mlflow_params)
    train(0.2, {"m": 1.0}, {"m": Gate(min=0)})
    info = mlflow.models.get_model_info("models:/churn@challenger")
    assert info.signature is not None
    assert info.signature.inputs.input_names() == ["recency_days"]
