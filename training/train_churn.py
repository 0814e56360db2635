"""``journey train churn``: the churn classifier and the survival model, tracked and gated.

Load snapshots (out-of-time split) -> fit the classifier, the RFM baseline and the
survival models -> evaluate on the test window -> log params, data, metrics, plots and
pyfunc models -> register ``churn`` and ``churn_survival`` as challengers if their gates
in ``params.yaml`` (``registry.gates``) pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, Schema

from features.builders import categorical_features, feature_reasons
from features.config import Params
from features.frames import CUTOFF
from features.io.warehouse import canonical_tables
from features.reference import REFERENCE_ARTIFACT, reference_distribution
from features.store import active_mask
from models.metrics import roc_auc
from models.pyfunc_churn import PREDICT_PARAMS, ChurnPyfunc
from models.pyfunc_churn_survival import ChurnSurvivalPyfunc
from training import plots
from training.churn_data import DURATION, EVENT, LABEL, ChurnData, as_served, load_churn_data
from training.churn_models import curve_days, fit_baseline, fit_classifier, fit_survival
from training.evaluate_churn import classifier_metrics, versus_baseline
from training.registry import register_challenger
from training.result import TrainResult
from training.tracking import (
    configure,
    log_figure,
    log_run_context,
    log_training_data,
    pip_requirements,
)

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

STEPS = (
    "train features and labels",
    "test features and labels",
    "classifier",
    "baseline",
    "survival models",
    "plots",
    "log and register",
)
EXAMPLE_ROWS = 5
SHAP_ROWS = 2000


def train_churn(
    con: BaseBackend, params: Params, *, on_step: Callable[[str], None] | None = None
) -> TrainResult:
    """Train, evaluate, log and gate ``churn`` and ``churn_survival``; see the module doc."""
    step = on_step or (lambda _: None)
    configure(params)
    data = load_churn_data(canonical_tables(con), params, on_step=step)
    with mlflow.start_run(run_name="train churn") as run:
        log_run_context(
            params,
            sections=["churn", "labels", "training"],
            tags={"model": "churn", "split": data.split.describe()},
        )
        log_data(data)
        step("classifier")
        clf = fit_classifier(data, params)
        step("baseline")
        base = fit_baseline(data, params)
        y = data.test[LABEL].to_numpy()
        p = clf.predict_proba(data.X(data.test))[:, 1]
        p_base = base.predict_proba(data.test[params.churn.baseline_columns])[:, 1]
        metrics = classifier_metrics(y, p, params.churn)
        metrics |= versus_baseline(metrics, classifier_metrics(y, p_base, params.churn))
        metrics |= {"n_train_rows": float(len(data.train)), "n_test_rows": float(len(data.test))}
        metrics |= oracle_metrics(con, data, params)
        step("survival models")
        surv = fit_survival(data, params)
        step("plots")
        log_classifier_plots(clf, data, y, {"churn model": p, "RFM baseline": p_base})
        log_survival_plot(surv.model, data, p, params)
        step("log and register")
        mlflow.log_metrics(metrics)
        # The nightly scorer measures drift against the latest snapshot trained on, limited
        # to the customers it would score (the active ones).
        active = active_mask(data.test, params.serving.active_within_days)
        reference = reference_distribution(
            data.X(data.test)[active], {"p_churn": p[active]}, categorical=categorical_features()
        )
        mlflow.log_dict(reference, REFERENCE_ARTIFACT)
        churn_version = log_and_register(
            "churn",
            ChurnPyfunc(clf, feature_reasons(params), reasons=params.churn.reasons),
            data.model_input(data.test),
            metrics,
            params,
            predict_params=PREDICT_PARAMS,
        )
        with mlflow.start_run(run_name="train churn_survival", nested=True):
            mlflow.set_tags({"model": "churn_survival", "survival.kind": surv.kind})
            mlflow.log_params({"survival_kind": surv.kind})
            mlflow.log_metrics(surv.metrics)
            for kind, m in surv.candidates.items():
                mlflow.log_metrics({f"{kind}_{k}": v for k, v in m.items()})
            wrapper = ChurnSurvivalPyfunc(
                surv.model,
                definition=params.labels.churn,
                horizons_days=params.churn.survival.horizons_days,
                curve_days=curve_days(params),
            )
            cols = ["customer_id", *surv.model.feature_names_in_]
            survival_version = log_and_register(
                "churn_survival", wrapper, data.test[cols], surv.metrics, params
            )
        metrics |= {f"survival_{k}": v for k, v in surv.metrics.items()}
        mlflow.log_metrics({f"survival_{k}": v for k, v in surv.metrics.items()})
    return TrainResult(
        name="churn",
        run_id=run.info.run_id,
        metrics=metrics,
        versions={"churn": churn_version, "churn_survival": survival_version},
    )


def oracle_metrics(con: BaseBackend, data: ChurnData, params: Params) -> dict[str, float]:
    """On a simulated warehouse (truth tables present): the ROC-AUC of the simulator's
    true churn probability on the test window, the ceiling ours is compared with."""
    from features.simulate import churn_oracle
    from features.simulate.oracles import NEEDED

    if not set(NEEDED) <= set(con.list_tables()):
        return {}
    truth = {t: con.table(t) for t in NEEDED}
    best = churn_oracle(
        truth,
        data.split.test_cutoff,
        horizon_days=data.split.horizon_days,
        params=params.simulate,
    )
    scored = data.test[["customer_id", LABEL]].merge(best, on="customer_id", how="inner")
    if len(scored) != len(data.test):
        return {}
    return {"oracle_roc_auc": roc_auc(scored[LABEL], scored["p_no_order"])}


def log_data(data: ChurnData) -> None:
    """The train and test snapshots as MLflow datasets (name, digest, cutoffs)."""
    for frame, context in ((data.train, "training"), (data.test, "testing")):
        log_training_data(
            frame,
            name=f"churn_{context}",
            targets=LABEL,
            cutoffs=sorted(frame[CUTOFF].unique()),
            context=context,
        )


def log_and_register(
    name: str,
    wrapper: PythonModel,
    model_input: pd.DataFrame,
    metrics: dict[str, float],
    params: Params,
    *,
    predict_params: dict | None = None,
) -> str | None:
    """Log ``wrapper`` with a signature, an input example and pip requirements, then gate it."""
    example = as_served(model_input.head(EXAMPLE_ROWS)).reset_index(drop=True)
    sample = as_served(model_input.head(200)).reset_index(drop=True)
    signature = infer_signature(sample, wrapper.predict(None, sample), params=predict_params)
    # Inference marks columns holding nulls optional; every input column is required, so
    # a feature table missing one fails MLflow's schema enforcement by name.
    signature.inputs = Schema(
        [ColSpec(c.type, c.name, required=True) for c in signature.inputs.inputs]
    )
    info = mlflow.pyfunc.log_model(
        name=name,
        python_model=wrapper,
        signature=signature,
        input_example=example,
        pip_requirements=pip_requirements(),
    )
    return register_challenger(info.model_uri, name, metrics, params.registry.gates.get(name, {}))


def log_classifier_plots(clf, data: ChurnData, y: np.ndarray, scores: dict[str, np.ndarray]):
    log_figure(plots.plot_roc_pr(y, scores), "plots/roc_pr.png")
    log_figure(plots.plot_calibration(y, scores), "plots/calibration.png")
    log_figure(plots.plot_lift_gain(y, scores), "plots/lift_gain.png")
    importance = pd.Series(clf.feature_importances_, index=list(data.features), name="gain share")
    log_figure(plots.plot_importance(importance), "plots/feature_importance.png")
    X = data.X(data.test).sample(n=min(SHAP_ROWS, len(data.test)), random_state=0)
    contrib = clf.predict_contributions(X)
    log_figure(plots.plot_shap_summary(contrib, X), "plots/shap_summary.png")


def log_survival_plot(model, data: ChurnData, p_churn: np.ndarray, params: Params) -> None:
    """Mean survival curve per risk tier (tertiles of the classifier's churn probability)."""
    times = np.arange(0, params.churn.survival.curve_max_days + 1, 5, dtype=float)
    X = data.test[list(model.feature_names_in_)]
    curves = model.predict_survival_function(X, times)
    tier = pd.qcut(pd.Series(p_churn).rank(method="first"), 3, labels=["low", "medium", "high"])
    by_tier = {
        f"{t} churn risk": curves[(tier == t).to_numpy()].mean(axis=0)
        for t in ["low", "medium", "high"]
    }
    observed = data.test[[DURATION, EVENT]]
    mlflow.log_metric("test_follow_up_days", float(observed[DURATION].max()))
    log_figure(plots.plot_survival_by_tier(times.tolist(), by_tier), "plots/survival_by_tier.png")
