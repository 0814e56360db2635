"""Evaluators of the registered churn models for promotion (see training.promote).

Each scores what a registry alias really serves: the pyfunc loaded from ``models:/...``,
fed rows of the feature table at the test cutoff, as serving feeds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mlflow

from features.config import Params
from features.io.warehouse import canonical_tables
from training.churn_data import (
    DURATION,
    EVENT,
    LABEL,
    NOT_FEATURES,
    as_served,
    snapshot_frame,
)
from training.evaluate_churn import classifier_metrics, survival_metrics
from training.splits import out_of_time_split
from training.tracking import configure

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


def _test_window(con, params: Params):
    configure(params)
    tables = canonical_tables(con)
    split = out_of_time_split(tables, params)
    test = snapshot_frame(
        tables, [split.test_cutoff], params=params, observed_until=split.observed_until
    )
    model_input = test[[c for c in test.columns if c not in NOT_FEATURES or c == "customer_id"]]
    window = f"test cutoff {split.test_cutoff:%Y-%m-%d}, {len(test):,} customers"
    return test, as_served(model_input), window


def churn_evaluator(con: BaseBackend, params: Params):
    """Classifier metrics of a registered ``churn`` model on the test window."""
    test, X, window = _test_window(con, params)
    y = test[LABEL].to_numpy()

    def evaluate(uri: str) -> dict[str, float]:
        model = mlflow.pyfunc.load_model(uri)
        out = model.predict(X, params={"reasons": False})
        return classifier_metrics(y, out["p_churn"].to_numpy(), params.churn)

    return window, evaluate


def churn_survival_evaluator(con: BaseBackend, params: Params):
    """Concordance and AUCs of a registered ``churn_survival`` model on the test window,
    from its ``p_churn_<h>d`` columns (the event risk under the churn definition)."""
    test, X, window = _test_window(con, params)
    horizons = params.churn.survival.horizons_days
    inactivity = params.labels.churn == "inactivity"

    def evaluate(uri: str) -> dict[str, float]:
        out = mlflow.pyfunc.load_model(uri).predict(X)
        # P(event by h): the next order under inactivity (1 - P(no order)), the lapse else.
        risk = {
            h: (1.0 - out[f"p_churn_{h}d"] if inactivity else out[f"p_churn_{h}d"]).to_numpy()
            for h in horizons
        }
        follow_up = float(test[DURATION].max())

        def risk_at(t):
            h = min(horizons, key=lambda x: abs(min(x, follow_up - 0.5) - t))
            return risk[h]

        return survival_metrics(
            test[DURATION].to_numpy(),
            test[EVENT].to_numpy(),
            survival_at=None,
            risk_at=risk_at,
            horizons_days=horizons,
        )

    return window, evaluate
