"""``journey tune churn``: an Optuna search over the churn booster's hyperparameters.

A seeded TPE sampler proposes parameters. Each trial boosts the booster of every fold side
by side (``lightgbm.cv`` on one Dataset binned once, on folds computed once), up to
``churn.tune.max_rounds`` with early stopping on the mean validation metric; the best round
is the trial's ``n_estimators``. Every ``prune_every_rounds`` rounds the trial reports that
mean to a percentile pruner, which stops it when it falls out of the top
``prune_percentile`` % of the finished trials at that round (50: the median pruner).
One parent MLflow run holds a nested run per trial (the optuna-integration MLflow callback is
deprecated, so the objective logs); the best parameters are logged as ``best_params.yaml``
and returned.

Folds: validation cutoff ``v_j`` is the last train cutoff moved back ``j`` steps; its
training cutoffs are the ``n_train_cutoffs`` cutoffs ending ``horizon_days`` before
``v_j``, so no training label window reaches into the validation window. As in
``ChurnClassifier``, the booster trains on those cutoffs before the calibration fold.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

import lightgbm as lgb
import mlflow
import numpy as np
import optuna
import pandas as pd

from features.config import NOT_SEARCHED, ChurnBoosterParams, Params
from features.frames import CUTOFF
from features.io.warehouse import canonical_tables
from models._frame import FrameSchema
from models.metrics import brier_score, log_loss, pr_auc, roc_auc
from training.churn_data import LABEL, feature_columns, sample_per_cutoff
from training.churn_models import make_classifier
from training.splits import out_of_time_split
from training.tracking import configure, log_run_context

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

METRICS = {"roc_auc": roc_auc, "pr_auc": pr_auc, "brier": brier_score, "log_loss": log_loss}
LOWER_IS_BETTER = {"brier", "log_loss"}
# Early stopping and pruning watch LightGBM's own metric. It is the trial's value for the
# rank metrics, whose ranking Platt scaling (increasing in the booster's log-odds) keeps;
# Brier, log loss and isotonic calibration (which ties scores) change the value, so those
# trials refit ChurnClassifier at the chosen round count to score it.
LIGHTGBM_METRICS = {
    "roc_auc": "auc",
    "pr_auc": "average_precision",
    "brier": "binary_logloss",
    "log_loss": "binary_logloss",
}
RANK_METRICS = {"roc_auc", "pr_auc"}
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


def booster_rows(
    frame: pd.DataFrame, rows: Sequence[tuple[np.ndarray, np.ndarray]], params: Params
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each fold's training rows minus its calibration cutoffs, and its validation rows.

    ``ChurnClassifier`` fits its booster on the training cutoffs before its calibration
    fold (``churn.classifier.calibration_size``), so the search tunes the booster on
    those rows too.
    """
    clf = make_classifier(params.churn, params.project.seed)
    y, when = frame[LABEL].to_numpy(), frame[CUTOFF].to_numpy()
    out = []
    for train, val in rows:
        booster, _ = clf.calibration_split(y[train], when[train])
        out.append((train[booster], val))
    return out


def lightgbm_dataset(frame: pd.DataFrame, params: Params) -> lgb.Dataset:
    """The feature columns of ``frame`` binned once, as LightGBM's ``cv`` subsets them.

    Columns are coded as ``ChurnClassifier`` codes them (numerics as float64, categoricals
    with their levels). Bins come from the feature values of every row (labels unused).
    ``feature_pre_filter`` is off so trials may draw any ``min_child_samples`` without
    rebinning; the raw frame is freed, so a trial that changed a binning parameter would
    fail instead of silently rebinning.
    """
    X = frame[list(feature_columns(frame, params.churn.exclude_features))]
    data = FrameSchema.learn(X).to_lightgbm(X)
    return lgb.Dataset(
        data,
        frame[LABEL].to_numpy(),
        params=booster_params(params),
        free_raw_data=True,
    ).construct()


def booster_params(params: Params) -> dict[str, object]:
    """LightGBM parameters every trial shares: the classifier's, minus what is searched
    or handled elsewhere (sklearn names are LightGBM aliases)."""
    cfg = params.churn.tune
    fixed = params.churn.classifier.model_dump(exclude={*NOT_SEARCHED, *cfg.space})
    return {
        **fixed,
        "objective": "binary",
        "metric": LIGHTGBM_METRICS[cfg.metric],
        "seed": params.project.seed,
        "num_threads": cfg.n_jobs or 0,
        "feature_pre_filter": False,
        "verbosity": -1,
    }


def pruning_callback(trial: optuna.Trial, metric: str, every: int, warmup: int) -> Callable:
    """A LightGBM callback that reports the mean validation ``metric`` to ``trial`` every
    ``every`` rounds from ``warmup`` on and raises ``TrialPruned`` when the pruner says so."""

    def report(env: lgb.callback.CallbackEnv) -> None:
        step = env.iteration + 1
        if step < warmup or step % every:
            return
        for result in env.evaluation_result_list or ():
            if result.dataset_name == "valid" and result.metric_name == metric:
                trial.report(result.metric_value, step)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at round {step}")

    return report


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
    fold's cutoffs), logging to MLflow under one parent run (MLflow must be configured).

    Every trial boosts the folds side by side (``lightgbm.cv`` on one binned Dataset),
    stops early on the mean validation metric, whose best round becomes the trial's
    ``n_estimators``, and may be pruned every ``prune_every_rounds`` rounds.
    """
    cfg = params.churn.tune
    n_trials = n_trials or cfg.n_trials
    timeout_seconds = timeout_seconds if timeout_seconds is not None else cfg.timeout_seconds
    rows = fold_rows(frame, folds)
    dataset = lightgbm_dataset(frame, params)
    cv_folds = booster_rows(frame, rows, params)
    fixed = booster_params(params)
    lgb_metric = LIGHTGBM_METRICS[cfg.metric]
    # LightGBM's own validation value is the trial's when calibration cannot change it:
    # a rank metric under Platt scaling of the booster alone (the BG/NBD blend re-ranks).
    clf_params = params.churn.classifier
    lightgbm_value_is_trial_value = (
        cfg.metric in RANK_METRICS
        and clf_params.calibration_method == "sigmoid"
        and clf_params.purchase_model_horizon_days is None
    )

    def objective(trial: optuna.Trial) -> float:
        chosen = suggest(trial, cfg.space)
        with mlflow.start_run(run_name=f"trial {trial.number}", nested=True):
            mlflow.log_params(chosen)
            try:
                history = lgb.cv(
                    {**fixed, **chosen},
                    dataset,
                    num_boost_round=cfg.max_rounds,
                    folds=cv_folds,
                    callbacks=[
                        pruning_callback(
                            trial, lgb_metric, cfg.prune_every_rounds, cfg.prune_warmup_rounds
                        ),
                        lgb.early_stopping(cfg.early_stopping_rounds, verbose=False),
                    ],
                )
            except optuna.TrialPruned:
                mlflow.set_tag("state", "pruned")
                raise
            curve = cast(list[float], history[f"valid {lgb_metric}-mean"])
            n_estimators = len(curve)  # cv cuts the history at the best round
            if lightgbm_value_is_trial_value:
                value = float(curve[-1])
            else:
                value = calibrated_score(
                    frame, rows, params, {**chosen, "n_estimators": n_estimators}
                )
            trial.set_user_attr("n_estimators", n_estimators)
            mlflow.log_metrics({cfg.metric: value, "n_estimators": n_estimators})
            mlflow.set_tag("state", "complete")
        return value

    direction: Literal["minimize", "maximize"] = (
        "minimize" if cfg.metric in LOWER_IS_BETTER else "maximize"
    )
    study = optuna.create_study(
        direction=direction,
        sampler=optuna.samplers.TPESampler(
            seed=params.project.seed, n_startup_trials=cfg.n_startup_trials
        ),
        pruner=optuna.pruners.PercentilePruner(
            cfg.prune_percentile, n_startup_trials=cfg.n_startup_trials
        ),
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
        best = {**study.best_params, "n_estimators": study.best_trial.user_attrs["n_estimators"]}
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


def calibrated_score(
    frame: pd.DataFrame,
    rows: Sequence[tuple[np.ndarray, np.ndarray]],
    params: Params,
    chosen: dict[str, float | int],
) -> float:
    """Mean validation ``churn.tune.metric`` of ``ChurnClassifier`` (booster and
    calibration) fitted on each fold with ``chosen``: for metrics calibration changes."""
    score = METRICS[params.churn.tune.metric]
    X = frame[list(feature_columns(frame, params.churn.exclude_features))]
    y, when = frame[LABEL].to_numpy(), frame[CUTOFF].to_numpy()
    values = []
    for train, val in rows:
        clf = make_classifier(params.churn, params.project.seed, **chosen)
        clf.fit(X.iloc[train], y[train], time=when[train])
        values.append(score(y[val], clf.predict_proba(X.iloc[val])[:, 1]))
    return float(np.mean(values))


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
