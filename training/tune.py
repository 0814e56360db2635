"""``journey tune churn``: an Optuna search over the churn booster's hyperparameters.

A seeded TPE sampler proposes parameters; each trial fits the classifier on expanding-
window folds (computed once) and reports the validation metric after every fold, so the
median pruner stops bad trials early. One parent MLflow run holds a nested run per trial
(the optuna-integration MLflow callback is deprecated, so the objective logs); the best
parameters are logged as ``best_params.yaml`` and returned.

Folds: validation cutoff ``v_j`` is the last train cutoff moved back ``j`` steps; its
training cutoffs are the ``n_train_cutoffs`` cutoffs ending ``horizon_days`` before
``v_j``, so no training label window reaches into the validation window.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import mlflow
import numpy as np
import optuna
import pandas as pd

from features.config import ChurnBoosterParams, Params
from features.frames import CUTOFF
from features.io.warehouse import canonical_tables
from models.metrics import brier_score, log_loss, pr_auc, roc_auc
from training.churn_data import LABEL, feature_columns, sample_per_cutoff
from training.churn_models import make_classifier
from training.splits import out_of_time_split
from training.tracking import configure, log_run_context

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

METRICS = {"roc_auc": roc_auc, "pr_auc": pr_auc, "brier": brier_score, "log_loss": log_loss}
LOWER_IS_BETTER = {"brier", "log_loss"}
LOG_SCALE = {"learning_rate", "reg_lambda", "reg_alpha"}


@dataclass(frozen=True)
class Fold:
    train_cutoffs: tuple[dt.datetime, ...]
    validation_cutoff: dt.datetime


@dataclass(frozen=True)
class TuneResult:
    run_id: str
    metric: str
    best_value: float
    best_params: dict[str, float | int]
    n_complete: int
    n_pruned: int
    seconds: float

    def summary(self) -> str:
        best = ", ".join(f"{k}={v:.4g}" for k, v in self.best_params.items())
        return (
            f"tune churn: run {self.run_id}; {self.n_complete} complete, {self.n_pruned} pruned "
            f"in {self.seconds:.0f} s; best {self.metric}={self.best_value:.4f} with {best}"
        )


def make_folds(
    last_cutoff: dt.datetime, *, horizon_days: int, step_days: int, n_train: int, n_folds: int
) -> list[Fold]:
    """Expanding-window folds, latest validation cutoff first (see the module docstring)."""
    step, horizon = dt.timedelta(days=step_days), dt.timedelta(days=horizon_days)
    folds = []
    for j in range(n_folds):
        val = last_cutoff - j * step
        first_train = val - horizon
        train = tuple(sorted(first_train - k * step for k in range(n_train)))
        folds.append(Fold(train, val))
    return folds


def fold_rows(frame: pd.DataFrame, folds: Sequence[Fold]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Row positions of each fold's training and validation snapshots."""
    cut = frame[CUTOFF].to_numpy()
    out = []
    for f in folds:
        train = np.flatnonzero(np.isin(cut, np.array(f.train_cutoffs, dtype="datetime64[ns]")))
        val = np.flatnonzero(cut == np.datetime64(f.validation_cutoff, "ns"))
        out.append((train, val))
    return out


def suggest(trial: optuna.Trial, space: dict[str, tuple[float, float]]) -> dict[str, float | int]:
    """Draw every parameter of ``space``; ints stay ints, rates and penalties in log scale."""
    out: dict[str, float | int] = {}
    for name, (low, high) in space.items():
        log = name in LOG_SCALE and low > 0
        if ChurnBoosterParams.model_fields[name].annotation is int:
            out[name] = trial.suggest_int(name, int(low), int(high), log=log)
        else:
            out[name] = trial.suggest_float(name, float(low), float(high), log=log)
    return out


def tune_frame(
    frame: pd.DataFrame,
    folds: Sequence[Fold],
    params: Params,
    *,
    n_trials: int | None = None,
    timeout_seconds: float | None = None,
    on_trial: Callable[[optuna.trial.FrozenTrial], None] | None = None,
) -> TuneResult:
    """Search ``params.churn.tune.space`` on ``frame`` (stacked snapshots holding every
    fold's cutoffs), logging to MLflow under one parent run (MLflow must be configured)."""
    cfg = params.churn.tune
    n_trials = n_trials or cfg.n_trials
    timeout_seconds = timeout_seconds if timeout_seconds is not None else cfg.timeout_seconds
    score = METRICS[cfg.metric]
    features = list(feature_columns(frame, params.churn.exclude_features))
    X, y, when = frame[features], frame[LABEL].to_numpy(), frame[CUTOFF].to_numpy()
    rows = fold_rows(frame, folds)
    seed = params.project.seed

    def objective(trial: optuna.Trial) -> float:
        chosen = suggest(trial, cfg.space)
        values = []
        with mlflow.start_run(run_name=f"trial {trial.number}", nested=True):
            mlflow.log_params(chosen)
            try:
                for j, (tr, va) in enumerate(rows):
                    clf = make_classifier(params.churn, seed, **chosen)
                    clf.fit(X.iloc[tr], y[tr], time=when[tr])
                    values.append(score(y[va], clf.predict_proba(X.iloc[va])[:, 1]))
                    mlflow.log_metric(f"fold_{cfg.metric}", values[-1], step=j)
                    trial.report(float(np.mean(values)), step=j)
                    if trial.should_prune():
                        mlflow.set_tag("state", "pruned")
                        raise optuna.TrialPruned()
            finally:
                if values:
                    mlflow.log_metric(cfg.metric, float(np.mean(values)))
            mlflow.set_tag("state", "complete")
        return float(np.mean(values))

    direction: Literal["minimize", "maximize"] = (
        "minimize" if cfg.metric in LOWER_IS_BETTER else "maximize"
    )
    study = optuna.create_study(
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=cfg.n_startup_trials),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=cfg.n_startup_trials),
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    with mlflow.start_run(run_name="tune churn") as run:
        log_run_context(params, sections=["churn", "training"], tags={"model": "churn"})
        mlflow.log_params(
            {
                "tune.folds": "; ".join(
                    f"train {f.train_cutoffs[0]:%Y-%m-%d}..{f.train_cutoffs[-1]:%Y-%m-%d} "
                    f"-> validate {f.validation_cutoff:%Y-%m-%d}"
                    for f in folds
                ),
                "tune.rows": len(frame),
            }
        )
        study.optimize(
            objective,
            n_trials=n_trials,
            timeout=timeout_seconds,
            callbacks=[lambda _s, t: on_trial(t)] if on_trial else None,
        )
        states = [t.state for t in study.trials]
        n_complete = states.count(optuna.trial.TrialState.COMPLETE)
        n_pruned = states.count(optuna.trial.TrialState.PRUNED)
        best = dict(study.best_params)
        mlflow.log_dict(
            {"metric": cfg.metric, "value": study.best_value, "params": best}, "best_params.yaml"
        )
        mlflow.log_metrics(
            {f"best_{cfg.metric}": study.best_value, "n_complete": n_complete, "n_pruned": n_pruned}
        )
    return TuneResult(
        run.info.run_id,
        cfg.metric,
        float(study.best_value),
        best,
        n_complete,
        n_pruned,
        time.perf_counter() - started,
    )


def tune_churn(
    con: BaseBackend,
    params: Params,
    *,
    n_trials: int | None = None,
    timeout_seconds: float | None = None,
    on_trial: Callable[[optuna.trial.FrozenTrial], None] | None = None,
) -> TuneResult:
    """Build the fold snapshots from the warehouse once, then :func:`tune_frame`."""
    from features.frames import build_training_frame

    tables = canonical_tables(con)
    split = out_of_time_split(tables, params)
    folds = make_folds(
        split.train_cutoffs[-1],
        horizon_days=split.horizon_days,
        step_days=params.training.cutoff_step_days,
        n_train=len(split.train_cutoffs),
        n_folds=params.churn.tune.n_folds,
    )
    cutoffs = sorted({c for f in folds for c in (*f.train_cutoffs, f.validation_cutoff)})
    frame = build_training_frame(tables, cutoffs, params=params, label="churn")
    frame = sample_per_cutoff(frame, params.training.max_rows_per_cutoff, params.project.seed)
    configure(params)
    return tune_frame(
        frame,
        folds,
        params,
        n_trials=n_trials,
        timeout_seconds=timeout_seconds,
        on_trial=on_trial,
    )
