"""ChurnCoxModel: a penalized Cox proportional-hazards model of days to churn (lifelines)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter

from models.survival import SurvivalModelBase


class ChurnCoxModel(SurvivalModelBase):
    """Cox proportional hazards on a churn feature frame, with a Breslow baseline.

    ``fit(X, y)`` takes ``y = models.survival.survival_target(duration_days, event)``.
    The fitted lifelines ``CoxPHFitter`` is ``fitter_``; its ``params_`` are log hazard
    ratios per unit of each column of ``design_columns_`` (positive = churns sooner).

    Parameters
    ----------
    penalizer : float
        Elastic-net penalty strength on the coefficients (lifelines scales columns to unit
        variance first, so one strength suits all columns). 0 is the plain partial
        likelihood.
    l1_ratio : float in [0, 1]
        Share of the penalty that is L1 (lasso); 0 is ridge.
    alpha : float
        Level of the confidence intervals lifelines reports (``fitter_.summary``).
    """

    def __init__(self, *, penalizer: float = 0.01, l1_ratio: float = 0.0, alpha: float = 0.05):
        self.penalizer = penalizer
        self.l1_ratio = l1_ratio
        self.alpha = alpha

    def _make_fitter(self):
        return CoxPHFitter(penalizer=self.penalizer, l1_ratio=self.l1_ratio, alpha=self.alpha)

    def _baseline(self, times: np.ndarray) -> np.ndarray:
        """Breslow cumulative baseline hazard H0(t) as the step function it is.

        lifelines interpolates linearly between event times; the step function is the
        estimator itself and agrees with lifelines at every training time. Beyond the last
        training time H0 stays at its last value (no extrapolation).
        """
        base = self.fitter_.baseline_cumulative_hazard_.iloc[:, 0]
        grid = base.index.to_numpy(dtype=np.float64)
        values = np.concatenate([[0.0], base.to_numpy(dtype=np.float64)])
        return values[np.searchsorted(grid, times, side="right")]

    def _survival(self, design: pd.DataFrame, times: np.ndarray) -> np.ndarray:
        partial = self.fitter_.predict_partial_hazard(design).to_numpy(dtype=np.float64)
        return np.exp(-np.outer(partial, self._baseline(times)))

    def _median(self, design: pd.DataFrame) -> np.ndarray:
        """Smallest training time t with S(t | x) <= 1/2.

        ``inf`` when the row's curve stays above 1/2 through the last training time: its
        median lies beyond the data (lifelines' convention too). Never NaN. Rank with
        ``predict_churn_probability`` rather than with these medians, which tie at inf.
        """
        partial = self.fitter_.predict_partial_hazard(design).to_numpy(dtype=np.float64)
        base = self.fitter_.baseline_cumulative_hazard_.iloc[:, 0]
        grid = base.index.to_numpy(dtype=np.float64)
        # S(t) = exp(-H0(t) * partial) <= 1/2  <=>  H0(t) >= ln 2 / partial
        at = np.searchsorted(base.to_numpy(dtype=np.float64), np.log(2.0) / partial, side="left")
        return np.where(at < len(grid), grid[np.minimum(at, len(grid) - 1)], np.inf)
