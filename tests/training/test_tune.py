"""Optuna tuning: folds that never leak, the cross-validated booster behind each trial's
value, pruning, and the MLflow layout of a study."""

import datetime as dt

import lightgbm as lgb
import mlflow
import numpy as np
import optuna
import pandas as pd
import pytest
import yaml
from lightgbm.basic import EvalResult

from features.config import Params, TuneParams
from models._frame import FrameSchema
from models.metrics import roc_auc
from training.tracking import configure
from training.tune import (
    Fold,
    booster_params,
    booster_rows,
    calibrated_score,
    fold_rows,
    lightgbm_dataset,
    make_folds,
    pruning_callback,
    tune_frame,
)

D = dt.datetime


def test_folds_keep_every_training_label_window_before_validation():
    folds = make_folds(D(2025, 7, 1), horizon_days=90, step_days=30, n_train=2, n_folds=2)
    assert [(f.train_cutoffs, f.validation_cutoff) for f in folds] == [
        ((D(2025, 3, 3), D(2025, 4, 2)), D(2025, 7, 1)),
        ((D(2025, 2, 1), D(2025, 3, 3)), D(2025, 6, 1)),
    ]
    for f in folds:
        assert all(c + dt.timedelta(days=90) <= f.validation_cutoff for c in f.train_cutoffs)


def snapshots(seed: int = 0) -> pd.DataFrame:
    """Six monthly cutoffs x 300 customers; churn follows recency."""
    rng = np.random.default_rng(seed)
    cutoffs = [D(2025, m, 1) for m in range(1, 7)]
    n = 300
    parts = []
    for c in cutoffs:
        recency = rng.gamma(2.0, 30.0, n)
        visits = rng.poisson(3.0, n).astype(float)
        p = 1 / (1 + np.exp(-(0.04 * (recency - 60) - 0.3 * (visits - 3))))
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": [f"c{i}" for i in range(n)],
                    "cutoff": pd.Timestamp(c),
                    "recency_days": recency,
                    "visits_90d": visits,
                    "churned": (rng.random(n) < p).astype(np.int64),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


FOLDS = [
    Fold((D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1)), D(2025, 5, 1)),
    Fold((D(2025, 2, 1), D(2025, 3, 1), D(2025, 4, 1)), D(2025, 6, 1)),
]


def test_fold_rows_pick_each_folds_cutoffs():
    frame = snapshots()
    (train, val), _ = fold_rows(frame, FOLDS)
    assert sorted(frame.cutoff.iloc[train].unique()) == [
        pd.Timestamp(2025, m, 1) for m in (1, 2, 3)
    ]
    assert len(train) == 900
    assert (frame.cutoff.iloc[val] == pd.Timestamp(2025, 5, 1)).all() and len(val) == 300


def small(params, **tune):
    """``params`` with a quick search: two parameters, few rounds, one LightGBM thread."""
    settings = {
        "n_startup_trials": 2,
        "max_rounds": 60,
        "early_stopping_rounds": 10,
        "prune_every_rounds": 5,
        "prune_warmup_rounds": 10,
        "space": {"num_leaves": (4, 15), "learning_rate": (0.05, 0.3)},
        **tune,
    }
    churn = params.churn
    return params.model_copy(
        update={
            "churn": churn.model_copy(
                update={
                    "tune": churn.tune.model_copy(update=settings),
                    "classifier": churn.classifier.model_copy(
                        update={"n_jobs": 1, "min_child_samples": 10}
                    ),
                }
            )
        }
    )


def test_booster_rows_leave_out_the_calibration_cutoff():
    frame = snapshots()
    rows = fold_rows(frame, FOLDS)
    params = Params()  # calibration_size 1: the latest train cutoff
    (train, val), _ = booster_rows(frame, rows, params)
    assert sorted(frame.cutoff.iloc[train].unique()) == [pd.Timestamp(2025, m, 1) for m in (1, 2)]
    assert len(train) == 600
    assert (val == rows[0][1]).all()


def test_lightgbm_auc_is_the_roc_auc_of_models_metrics():
    """The trial value of a rank metric is LightGBM's: it must be our metric."""
    frame = snapshots()
    params = small(Params())
    folds = booster_rows(frame, fold_rows(frame, FOLDS), params)
    history = lgb.cv(
        {**booster_params(params), "num_leaves": 7},
        lightgbm_dataset(frame, params),
        num_boost_round=15,
        folds=folds,
        return_cvbooster=True,
    )
    data = FrameSchema.learn(frame[["recency_days", "visits_90d"]]).to_lightgbm(frame)
    y = frame["churned"].to_numpy()
    ours = [
        roc_auc(y[val], booster.predict(data.iloc[val], raw_score=True))
        for booster, (_, val) in zip(history["cvbooster"].boosters, folds, strict=True)
    ]
    assert history["valid auc-mean"][-1] == pytest.approx(np.mean(ours), abs=1e-12)


class PruneFromStep(optuna.pruners.BasePruner):
    def __init__(self, step: int):
        self.step = step

    def prune(self, study, trial) -> bool:
        return trial.last_step is not None and trial.last_step >= self.step


def testpruning_callback_reports_every_k_rounds_after_warmup_and_prunes():
    study = optuna.create_study(direction="maximize", pruner=PruneFromStep(30))
    trial = study.ask()
    report = pruning_callback(trial, "auc", every=10, warmup=20)
    with pytest.raises(optuna.TrialPruned, match="pruned at round 30"):
        for i in range(60):
            result = EvalResult("valid", "auc", 0.5 + i / 100, True, 0.0)
            report(lgb.callback.CallbackEnv(None, {}, i, 0, 60, [result]))
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    assert study.trials[0].intermediate_values == {20: 0.69, 30: 0.79}


def test_tune_logs_a_parent_run_with_a_nested_run_per_trial(mlflow_params):
    frame = snapshots()
    params = small(mlflow_params)
    configure(params)
    seen = []
    result = tune_frame(frame, FOLDS, params, n_trials=6, on_trial=seen.append)
    assert result.n_complete + result.n_pruned == 6 == len(seen)
    assert set(result.best_params) == {"num_leaves", "learning_rate", "n_estimators"}
    assert 1 <= result.best_params["n_estimators"] <= 60
    assert 0.6 < result.best_value <= 1
    runs = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'")
    assert len(runs) == 6
    assert set(runs["tags.state"]) <= {"complete", "pruned"}
    complete = runs[runs["tags.state"] == "complete"]
    assert complete["metrics.roc_auc"].max() == pytest.approx(result.best_value)
    assert (complete["metrics.n_estimators"] <= 60).all()
    best = mlflow.artifacts.load_text(f"runs:/{result.run_id}/best_params.yaml")
    assert yaml.safe_load(best)["params"] == result.best_params
    again = tune_frame(frame, FOLDS, params, n_trials=6)
    assert again.best_params == result.best_params  # seeded sampler


def test_a_calibration_dependent_metric_scores_the_calibrated_classifier(mlflow_params):
    frame = snapshots()
    params = small(mlflow_params, metric="brier", space={"num_leaves": (4, 15)})
    configure(params)
    result = tune_frame(frame, FOLDS, params, n_trials=2)
    rows = fold_rows(frame, FOLDS)
    assert result.best_value == calibrated_score(frame, rows, params, result.best_params)


def test_with_the_bgnbd_blend_roc_auc_scores_the_calibrated_classifier(mlflow_params):
    """The blend's stack re-ranks, so LightGBM's own AUC is not the trial's value."""
    frame = snapshots()
    rng = np.random.default_rng(1)
    age = rng.uniform(30, 400, len(frame))
    repeats = rng.poisson(2.0, len(frame)).astype(float)
    frame = frame.assign(
        days_since_first_purchase=age,
        purchase_span_days=np.where(repeats > 0, age * rng.uniform(0, 1, len(frame)), 0.0),
        repeat_purchase_days=repeats,
    )
    params = small(mlflow_params, space={"num_leaves": (4, 15)})
    churn = params.churn
    blend = churn.classifier.model_copy(update={"purchase_model_horizon_days": 90})
    params = params.model_copy(update={"churn": churn.model_copy(update={"classifier": blend})})
    configure(params)
    result = tune_frame(frame, FOLDS, params, n_trials=2)
    rows = fold_rows(frame, FOLDS)
    assert result.best_value == calibrated_score(frame, rows, params, result.best_params)


def test_the_space_refuses_n_estimators_which_early_stopping_picks():
    with pytest.raises(ValueError, match="n_estimators is not searched: early stopping"):
        TuneParams(space={"n_estimators": (100, 600)})
