"""ChurnWeibullModel: a Weibull accelerated-failure-time model of days to churn (lifelines)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines import WeibullAFTFitter

from models.survival import SurvivalModelBase


class ChurnWeibullModel(SurvivalModelBase):
    """Weibull AFT on a churn feature frame: S(t | x) = exp(-(t / lambda(x)) ** rho).

    ``log lambda(x) = b0 + x . b`` (``fitter_.params_.loc["lambda_"]``): a positive
    coefficient stretches time to churn by ``exp(b)`` per unit. The shape ``rho`` is one
    number for everyone (``fitter_.params_.loc["rho_"]``, log scale). Same interface as
    :class:`models.churn_cox.ChurnCoxModel`; ``fit(X, y)`` takes
    ``y = models.survival.survival_target(duration_days, event)``.

    Parameters
    ----------
    penalizer : float
        Elastic-net penalty on the coefficients (not the intercepts), on columns scaled
        to unit variance by lifelines. 0 is plain maximum likelihood.
    l1_ratio : float in [0, 1]
        Share of the penalty that is L1.
    alpha : float
        Level of the confidence intervals lifelines reports.
    """

    def __init__(self, *, penalizer: float = 0.01, l1_ratio: float = 0.0, alpha: float = 0.05):
        self.penalizer = penalizer
        self.l1_ratio = l1_ratio
        self.alpha = alpha

    def _make_fitter(self):
        return WeibullAFTFitter(penalizer=self.penalizer, l1_ratio=self.l1_ratio, alpha=self.alpha)

    def _scale_shape(self, design: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        params = self.fitter_.params_
        lam = params.loc["lambda_"]
        rho = params.loc["rho_"]
        cols = [c for c in lam.index if c != "Intercept"]
        log_lam = design[cols].to_numpy(dtype=np.float64) @ lam[cols].to_numpy()
        log_lam = log_lam + float(lam.get("Intercept", 0.0))
        log_rho = float(rho.get("Intercept", 0.0))
        return np.exp(log_lam), np.full(len(design), np.exp(log_rho))

    def _survival(self, design: pd.DataFrame, times: np.ndarray) -> np.ndarray:
        lam, rho = self._scale_shape(design)
        return np.exp(-((times[None, :] / lam[:, None]) ** rho[:, None]))

    def _median(self, design: pd.DataFrame) -> np.ndarray:
        """lambda(x) * (ln 2) ** (1 / rho): always finite; past the longest follow-up it
        is the fitted Weibull's extrapolation, not something the data showed."""
        lam, rho = self._scale_shape(design)
        return lam * np.log(2.0) ** (1.0 / rho)
