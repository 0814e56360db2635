"""GammaGammaModel: the Gamma-Gamma spend model (Fader & Hardie 2013), fitted by maximum
likelihood with a vectorized log-likelihood.

Each transaction's value is Gamma(shape p, rate nu), with the customer's nu ~ Gamma(q,
gamma). The expected spend per transaction, p / nu averaged over nu's posterior, is a
weighted mean of the customer's own average spend and the population mean
p * gamma / (q - 1), weighted toward their own as their number of transactions grows.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from models._clv import (
    FREQUENCY,
    MONETARY,
    column,
    row_generators,
    row_keys,
    seed_of,
    spend_history,
)
from models._frame import validate_frame

PARAMS = ("p", "q", "gamma")


def log_likelihood(params, x, m) -> np.ndarray:
    """Per-customer log-likelihood of the mean spend ``m`` over ``x`` transactions (x > 0)."""
    p, q, g = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x)
    )


class GammaGammaModel(BaseEstimator):
    """Expected spend per purchase day, shrunk toward the population for short histories.

    Fitted on customers with at least one repeat purchase day, on the mean spend of those
    repeat days (the first purchase is left out, as in Fader & Hardie 2013: it often
    differs from later ones); a mean of 0 (free orders) has no gamma density and is left
    out of the fit, not of predictions. ``y`` is ignored. Learned: ``params_`` (``p, q,
    gamma``), ``log_likelihood_``, ``n_customers_`` (the rows fitted on) and
    ``n_zero_spend_`` (repeat customers left out for a zero mean).

    Parameters
    ----------
    frequency_col, monetary_col : str
        Columns of X holding x (repeat purchase days) and the mean spend per repeat purchase
        day (missing or anything when x = 0).
    penalizer : float
        L2 penalty on the parameters added to the mean negative log-likelihood.
    max_iter : int
        L-BFGS iterations.
    """

    def __init__(
        self,
        *,
        frequency_col: str = FREQUENCY,
        monetary_col: str = MONETARY,
        penalizer: float = 0.0,
        max_iter: int = 1000,
    ):
        self.frequency_col = frequency_col
        self.monetary_col = monetary_col
        self.penalizer = penalizer
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.allow_nan = True
        return tags

    def _history(self, X, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        frame = validate_frame(self, X, reset=reset)
        x = column(frame, self.frequency_col, role="frequency")
        bad = ~np.isfinite(x) | (x < 0) | (x != np.round(x))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{self.frequency_col} must be a whole number >= 0; row {frame.index[i]!r} "
                f"is {x[i]}"
            )
        return x, spend_history(frame, x, monetary_col=self.monetary_col)

    def fit(self, X, y=None):
        """Maximum likelihood on the customers of ``X`` with a repeat purchase."""
        x, m = self._history(X, reset=True)
        repeat = (x > 0) & (m > 0)
        self.n_zero_spend_ = int(((x > 0) & (m == 0)).sum())
        if repeat.sum() < 2:
            raise ValueError(
                "Gamma-Gamma needs customers with repeat purchases of positive value; X has "
                f"{int(repeat.sum())}"
            )
        x, m = x[repeat], m[repeat]

        def objective(log_params: np.ndarray) -> float:
            params = np.exp(log_params)
            return float(-log_likelihood(params, x, m).mean() + self.penalizer * np.sum(params**2))

        # Start at p = q = 1 and gamma at the mean spend: the population mean is then near
        # the observed one, and the optimizer stays away from the p -> inf, gamma -> 0 ridge.
        start = np.array([0.0, 0.0, np.log(m.mean())])
        result = minimize(objective, start, method="L-BFGS-B", options={"maxiter": self.max_iter})
        if not result.success:
            warnings.warn(
                f"Gamma-Gamma fit did not converge: {result.message}",
                ConvergenceWarning,
                stacklevel=2,
            )
        values = np.exp(result.x)
        self.params_ = dict(zip(PARAMS, (float(v) for v in values), strict=True))
        self.log_likelihood_ = float(log_likelihood(values, x, m).sum())
        self.n_customers_ = int(repeat.sum())
        if self.params_["q"] <= 1:
            warnings.warn(
                f"Gamma-Gamma q = {self.params_['q']:.3g} <= 1: the population mean spend is "
                "infinite, so customers without repeat purchases get their own data only",
                RuntimeWarning,
                stacklevel=2,
            )
        return self

    def population_spend(self) -> float:
        """Mean spend per purchase day of a customer with no repeat purchase: p gamma/(q-1)."""
        check_is_fitted(self)
        p, q, g = (self.params_[k] for k in PARAMS)
        return p * g / (q - 1) if q > 1 else float("inf")

    def predict_spend(self, X) -> np.ndarray:
        """E[spend per future purchase day | history], shape (n_rows,).

        ``p (gamma + x m) / (p x + q - 1)``: with weight ``p x / (p x + q - 1)`` on the
        customer's own mean ``m`` and the rest on the population mean.
        """
        check_is_fitted(self)
        x, m = self._history(X, reset=False)
        p, q, g = (self.params_[k] for k in PARAMS)
        return p * (g + x * m) / (p * x + q - 1)

    def sample_total_spend(self, X, orders: np.ndarray, *, random_state=None) -> np.ndarray:
        """Draws of the total spend of ``orders`` future purchase days, same shape as
        ``orders`` (n_rows, n_draws): nu ~ Gamma(p x + q, gamma + x m) per draw, then the
        sum of ``orders`` Gamma(p, nu) values, which is Gamma(orders p, nu). Each row draws
        from its own stream keyed by ``random_state`` and its (x, m)
        (:func:`models._clv.row_generators`)."""
        check_is_fitted(self)
        x, m = self._history(X, reset=False)
        orders = np.asarray(orders)
        if orders.ndim != 2 or orders.shape[0] != len(x):
            raise ValueError(f"orders must have shape ({len(x)}, n_draws); got {orders.shape}")
        p, q, g = (self.params_[k] for k in PARAMS)
        out = np.zeros(orders.shape)
        streams = row_generators(row_keys(x, m), seed_of(random_state), "gamma-gamma-spend")
        for i, rng in enumerate(streams):
            rate = rng.standard_gamma(p * x[i] + q, orders.shape[1]) / (g + x[i] * m[i])
            spend = rng.standard_gamma(np.maximum(orders[i] * p, 1e-300)) / rate
            out[i] = np.where(orders[i] > 0, spend, 0.0)
        return out
