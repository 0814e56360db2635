"""Optuna tuning: folds that never leak, and the MLflow layout of a study."""

import datetime as dt

import mlflow
import numpy as np
import pandas as pd
import yaml

from training.tracking import configure
from training.tune import Fold, fold_rows, make_folds, tune_frame

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


def test_tune_logs_a_parent_run_with_a_nested_run_per_trial(mlflow_params):
    frame = snapshots()
    params = mlflow_params.model_copy(
        update={
            "churn": mlflow_params.churn.model_copy(
                update={
                    "tune": mlflow_params.churn.tune.model_copy(
                        update={
                            "n_startup_trials": 2,
                            "space": {"num_leaves": (4, 15), "learning_rate": (0.05, 0.3)},
                        }
                    ),
                    "classifier": mlflow_params.churn.classifier.model_copy(
                        update={"n_estimators": 20, "n_jobs": 1, "min_child_samples": 10}
                    ),
                }
            )
        }
    )
    folds = FOLDS
    configure(params)
    seen = []
    result = tune_frame(frame, folds, params, n_trials=6, on_trial=seen.append)
    assert result.n_complete + result.n_pruned == 6 == len(seen)
    assert set(result.best_params) == {"num_leaves", "learning_rate"}
    assert 0.6 < result.best_value <= 1
    runs = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'")
    assert len(runs) == 6
    assert set(runs["tags.state"]) <= {"complete", "pruned"}
    best = mlflow.artifacts.load_text(f"runs:/{result.run_id}/best_params.yaml")
    assert yaml.safe_load(best)["params"] == result.best_params
    again = tune_frame(frame, folds, params, n_trials=6)
    assert again.best_params == result.best_params  # seeded sampler
