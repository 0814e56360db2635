"""BetaGeoCLVModel: BG/NBD purchases times Gamma-Gamma spend, with posterior intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from models._clv import AGE, FREQUENCY, INTERVAL_QUANTILES, MONETARY, SPAN, clv_frame, seed_of
from models._frame import validate_frame
from models.clv_bgnbd import BetaGeoModel
from models.clv_gamma_gamma import GammaGammaModel
from models.clv_pareto_nbd import ParetoNBDModel


class BetaGeoCLVModel(RegressorMixin, BaseEstimator):
    """Expected spend over ``horizon_days``: BG/NBD expected purchase days x Gamma-Gamma spend.

    The classic probabilistic CLV model (no discounting over a short horizon). ``fit(X)``
    needs no target: both parts are fitted on the purchase histories in ``X``, so the
    model is refitted at every cutoff on everything before it. ``purchases_`` is the
    fitted :class:`~models.clv_bgnbd.BetaGeoModel`, ``spend_`` the fitted
    :class:`~models.clv_gamma_gamma.GammaGammaModel`.

    The P10-P90 interval comes from posterior predictive draws: alive or not, a purchase
    rate and dropout probability from their posteriors, a purchase count, and the spend of
    those purchases from the customer's posterior spend scale.

    Parameters
    ----------
    horizon_days : float
        Length of the prediction window ``[cutoff, cutoff + horizon_days)``.
    frequency_col, span_col, age_col, monetary_col : str
        Purchase-summary columns of X (see :mod:`models._clv`).
    time_unit_days : float
        Time unit of the BG/NBD parameters (7 = weeks).
    penalizer : float
        L2 penalty of both fits.
    n_draws : int
        Posterior draws per customer for the interval (the mean is closed-form).
    random_state : int, RandomState or None
        Seeds the posterior draws. With an int, a customer's P10-P90 is a function of her
        inputs alone (the same in any batch or engine); None draws a fresh seed per call.
    """

    def __init__(
        self,
        *,
        horizon_days: float = 181.0,
        frequency_col: str = FREQUENCY,
        span_col: str = SPAN,
        age_col: str = AGE,
        monetary_col: str = MONETARY,
        time_unit_days: float = 7.0,
        penalizer: float = 0.0,
        n_draws: int = 400,
        random_state=None,
    ):
        self.horizon_days = horizon_days
        self.frequency_col = frequency_col
        self.span_col = span_col
        self.age_col = age_col
        self.monetary_col = monetary_col
        self.time_unit_days = time_unit_days
        self.penalizer = penalizer
        self.n_draws = n_draws
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y=None):
        """Fit BG/NBD and Gamma-Gamma on the purchase histories in ``X`` (``y`` is ignored)."""
        frame = validate_frame(self, X, reset=True)
        self.purchases_ = self._purchase_model(
            frequency_col=self.frequency_col,
            span_col=self.span_col,
            age_col=self.age_col,
            time_unit_days=self.time_unit_days,
            penalizer=self.penalizer,
        ).fit(frame)
        self.spend_ = GammaGammaModel(
            frequency_col=self.frequency_col,
            monetary_col=self.monetary_col,
            penalizer=self.penalizer,
        ).fit(frame)
        return self

    def _purchase_model(self, **params) -> BetaGeoModel | ParetoNBDModel:
        """The purchase model (BG/NBD here; subclasses swap it)."""
        return BetaGeoModel(**params)

    def _frame(self, X) -> pd.DataFrame:
        check_is_fitted(self)
        return validate_frame(self, X, reset=False)

    def predict(self, X) -> np.ndarray:
        """Expected spend over the horizon, shape (n_rows,)."""
        frame = self._frame(X)
        orders = self.purchases_.predict_expected_orders(frame, self.horizon_days)
        return orders * self.spend_.predict_spend(frame)

    def predict_frame(self, X, *, interval: bool = True) -> pd.DataFrame:
        """``clv, clv_p10, clv_p90, p_alive, expected_orders`` per row, indexed like ``X``.

        ``interval=False`` skips the posterior draws (the slow part); the bounds are NaN.
        """
        frame = self._frame(X)
        orders = self.purchases_.predict_expected_orders(frame, self.horizon_days)
        spend = self.spend_.predict_spend(frame)
        if interval:
            lower, upper = self._interval(frame)
        else:
            lower = upper = np.full(len(frame), np.nan)
        return clv_frame(
            frame.index,
            clv=orders * spend,
            clv_p10=lower,
            clv_p90=upper,
            p_alive=self.purchases_.predict_p_alive(frame),
            expected_orders=orders,
        )

    def _interval(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        seed = seed_of(self.random_state)  # per-row streams: chunks do not matter
        lower, upper = np.empty(len(frame)), np.empty(len(frame))
        chunk = max(1, 2_000_000 // max(self.n_draws, 1))  # bounded memory per step
        for start in range(0, len(frame), chunk):
            part = frame.iloc[start : start + chunk]
            counts = self.purchases_.sample_orders(
                part, self.horizon_days, n_draws=self.n_draws, random_state=seed
            )
            totals = self.spend_.sample_total_spend(part, counts, random_state=seed)
            q = np.quantile(totals, INTERVAL_QUANTILES, axis=1)
            lower[start : start + chunk], upper[start : start + chunk] = q
        return lower, upper
