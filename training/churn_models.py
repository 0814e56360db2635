"""Fitting the churn models from :class:`training.churn_data.ChurnData` and params.

Each function is small and pure apart from the fit itself; ``train_churn`` wires them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.config import ChurnParams, Params
from features.errors import JourneyError
from features.frames import CUTOFF
from models.churn_classifier import ChurnClassifier
from models.churn_cox import ChurnCoxModel
from models.churn_weibull import ChurnWeibullModel
from models.rfm_baseline import RFMLogisticBaseline
from models.survival import SurvivalModelBase, survival_target
from training.churn_data import DURATION, EVENT, LABEL, ChurnData, sample_per_cutoff
from training.evaluate_churn import fitted_survival_metrics

SURVIVAL_MODELS = {"cox": ChurnCoxModel, "weibull": ChurnWeibullModel}


def make_classifier(churn: ChurnParams, seed: int, **overrides) -> ChurnClassifier:
    """A :class:`ChurnClassifier` with the hyperparameters in ``churn.classifier``."""
    return ChurnClassifier(**{**churn.classifier.model_dump(), **overrides}, random_state=seed)


def fit_classifier(data: ChurnData, params: Params) -> ChurnClassifier:
    """LightGBM on the earlier train cutoffs, calibrated on the latest."""
    train = data.train
    return make_classifier(params.churn, params.project.seed).fit(
        data.X(train), train[LABEL].to_numpy(), time=train[CUTOFF].to_numpy()
    )


def fit_baseline(data: ChurnData, params: Params) -> RFMLogisticBaseline:
    """Logistic regression on the plain RFM columns (``churn.baseline_columns``)."""
    cols = params.churn.baseline_columns
    missing = [c for c in cols if c not in data.train.columns]
    if missing:
        raise JourneyError(
            f"churn.baseline_columns {missing} are not feature columns; "
            f"choose from {list(data.features)}"
        )
    return RFMLogisticBaseline(columns=cols, C=params.churn.baseline_C).fit(
        data.train[cols], data.train[LABEL].to_numpy()
    )


def survival_features(frame: pd.DataFrame, candidates) -> list[str]:
    """Candidates that vary in ``frame`` (a constant column has no coefficient to learn)."""
    return [c for c in candidates if frame[c].nunique(dropna=True) > 1]


@dataclass(frozen=True)
class SurvivalFit:
    kind: str  # cox | weibull
    model: SurvivalModelBase
    metrics: dict[str, float]  # on the test window
    candidates: dict[str, dict[str, float]]  # every fitted kind -> its test metrics


def fit_survival(data: ChurnData, params: Params) -> SurvivalFit:
    """Cox and/or Weibull on a sample of the train snapshots, scored on the test window.

    With ``churn.survival.model: best`` both are fitted and the one with the higher
    concordance on the test window is kept.
    """
    cfg = params.churn.survival
    kinds = list(SURVIVAL_MODELS) if cfg.model == "best" else [cfg.model]
    per_cutoff = None
    if cfg.max_rows is not None:
        per_cutoff = max(1, cfg.max_rows // max(1, data.train[CUTOFF].nunique()))
    train = sample_per_cutoff(data.train, per_cutoff, params.project.seed)
    features = survival_features(train, cfg.features or data.features)
    y = survival_target(train[DURATION].to_numpy(), train[EVENT].to_numpy())
    X_test = data.test[features]
    fits: dict[str, tuple[SurvivalModelBase, dict[str, float]]] = {}
    errors = {}
    for kind in kinds:
        model = SURVIVAL_MODELS[kind](penalizer=cfg.penalizer, l1_ratio=cfg.l1_ratio)
        try:
            model.fit(train[features], y)
        except Exception as err:  # lifelines raises ConvergenceError and plain ValueErrors
            errors[kind] = f"{type(err).__name__}: {err}"
            continue
        metrics = fitted_survival_metrics(
            model, X_test, data.test[DURATION], data.test[EVENT], cfg.horizons_days
        )
        fits[kind] = (model, metrics)
    if not fits:
        raise JourneyError(f"no survival model could be fitted: {errors}")
    best = max(fits, key=lambda k: fits[k][1]["concordance"])
    model, metrics = fits[best]
    return SurvivalFit(best, model, metrics, {k: m for k, (_, m) in fits.items()})


def curve_days(params: Params) -> list[float]:
    cfg = params.churn.survival
    return [float(t) for t in np.arange(0, cfg.curve_max_days + 1, cfg.curve_step_days)]
