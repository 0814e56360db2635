"""The registered ``churn_survival`` model: churn within 30/60/90 days, median days, curve.

``predict`` takes rows of the feature table and returns, in row order, ``customer_id``,
``p_churn_30d``, ``p_churn_60d``, ``p_churn_90d``, ``median_days_to_churn`` and
``survival_curve`` (JSON list of S(t) at t = 0, 15, ..., 180 days; see ``CONTRACTS.md``).

What the survival target is depends on ``labels.churn`` (``features.labels``):

- ``cancellation``: the event is the membership lapse, S(t) = P(still a member at day t),
  so P(churn within h days) = 1 - S(h) and ``median_days_to_churn`` is the median days to
  the lapse;
- ``inactivity``: churn is the absence of orders, so the event the model times is the next
  order and S(t) = P(no order by day t) = P(churned, were the horizon t days). Then
  P(churn within h days) = S(h), exactly the binary label for ``horizon_days = h``, and
  ``median_days_to_churn`` is the median length of the inactive spell ahead (days to the
  next order): longer means riskier, the opposite of the cancellation reading.

A median beyond what the model can tell (a Cox curve that stays above 1/2) is ``inf``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from models.pyfunc_churn import KEY, feature_input
from models.survival import SurvivalModelBase

DEFINITIONS = ("inactivity", "cancellation")


def curve_json(survival: np.ndarray, decimals: int = 4) -> np.ndarray:
    """Each row of ``survival`` as a JSON list string, e.g. ``"[1.0,0.9612,0.9]"``."""
    text = np.char.mod(f"%.{decimals}f", np.round(survival, decimals))
    text = np.char.rstrip(np.char.rstrip(text, "0"), ".")
    text = np.where(text == "", "0", text)  # "0.0000" strips to ""
    return np.array(["[" + ",".join(row) + "]" for row in text], dtype=object)


class ChurnSurvivalPyfunc(PythonModel):
    """Wraps a fitted :class:`models.survival.SurvivalModelBase` (Cox or Weibull).

    Parameters
    ----------
    model : ChurnCoxModel or ChurnWeibullModel
        Fitted on a frame whose columns are the feature names.
    definition : {"inactivity", "cancellation"}
        ``labels.churn`` the model was trained under (see the module docstring).
    horizons_days : sequence of int
        Horizons of the ``p_churn_<h>d`` columns.
    curve_days : sequence of float
        Where ``survival_curve`` samples S(t).
    """

    def __init__(
        self,
        model: SurvivalModelBase,
        *,
        definition: str,
        horizons_days=(30, 60, 90),
        curve_days=tuple(range(0, 181, 15)),
    ):
        if definition not in DEFINITIONS:
            raise ValueError(f"unknown churn definition {definition!r}. Valid: {DEFINITIONS}")
        self.model = model
        self.definition = definition
        self.horizons_days = tuple(int(h) for h in horizons_days)
        self.curve_days = tuple(float(t) for t in curve_days)

    @property
    def features(self) -> list[str]:
        return list(self.model.feature_names_in_)

    @property
    def output_columns(self) -> list[str]:
        return [
            KEY,
            *(f"p_churn_{h}d" for h in self.horizons_days),
            "median_days_to_churn",
            "survival_curve",
        ]

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        X = feature_input(model_input, self.features)
        out = pd.DataFrame({KEY: model_input[KEY].astype(str).to_numpy()})
        at_h = self.model.predict_survival_function(X, self.horizons_days)
        p = at_h if self.definition == "inactivity" else 1.0 - at_h
        for j, h in enumerate(self.horizons_days):
            out[f"p_churn_{h}d"] = np.clip(p[:, j], 0.0, 1.0).astype(np.float64)
        out["median_days_to_churn"] = self.model.predict_median(X).astype(np.float64)
        out["survival_curve"] = curve_json(self.model.predict_survival_function(X, self.curve_days))
        return out[self.output_columns]
