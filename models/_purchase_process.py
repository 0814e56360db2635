"""What BG/NBD and Pareto/NBD share: the purchase-history inputs, the maximum-likelihood
fit of a vectorized log-likelihood, and the time units.

A subclass names its parameters (``PARAMS``), the model (``NAME``, for messages), its
per-customer log-likelihood (``_log_likelihood(params, x, tx, age)``, time in units),
P(alive) (``_p_alive``) and the posterior draws of an alive customer's purchase count
(``_alive_counts``), and adds its predictions.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from models._clv import AGE, FREQUENCY, SPAN, purchase_history, row_generators, row_keys, seed_of
from models._frame import validate_frame


class PurchaseProcessModel(BaseEstimator):
    """Base of the purchase-count models fitted on purchase histories alone.

    ``fit(X)`` needs no target: the model is fitted on the purchase histories themselves
    (everything before the cutoff), so it can be refitted on the latest data at any
    cutoff. Learned: ``params_`` (by ``PARAMS``), ``log_likelihood_`` (total, in time
    units), ``n_customers_``, ``n_iter_``.

    Parameters
    ----------
    frequency_col, span_col, age_col : str
        Columns of X holding x (repeat purchase days), t_x and T (days).
    time_unit_days : float
        Days per model time unit: 7 gives weeks (the published CDNOW parameters).
    penalizer : float
        L2 penalty on the parameters added to the mean negative log-likelihood (as
        lifetimes' ``penalizer_coef``); 0 is plain maximum likelihood.
    max_iter : int
        L-BFGS iterations.
    """

    PARAMS: ClassVar[tuple[str, ...]]
    NAME: ClassVar[str]

    def __init__(
        self,
        *,
        frequency_col: str = FREQUENCY,
        span_col: str = SPAN,
        age_col: str = AGE,
        time_unit_days: float = 7.0,
        penalizer: float = 0.0,
        max_iter: int = 1000,
    ):
        self.frequency_col = frequency_col
        self.span_col = span_col
        self.age_col = age_col
        self.time_unit_days = time_unit_days
        self.penalizer = penalizer
        self.max_iter = max_iter

    @staticmethod
    def _log_likelihood(params, x, tx, age) -> np.ndarray:
        """Per-customer log-likelihood at ``params`` (in ``PARAMS`` order)."""
        raise NotImplementedError

    def _p_alive(self, x, tx, age) -> np.ndarray:
        """P(alive at the cutoff | history) per customer (time in units)."""
        raise NotImplementedError

    def _alive_counts(
        self, rng, n_draws: int, params: tuple[float, ...], x: float, age: float, t: float
    ) -> np.ndarray:
        """``n_draws`` posterior draws of the purchase count over ``t`` units of one
        customer alive at the cutoff, with ``x`` repeat purchases and age ``age``, under
        ``params`` (in ``PARAMS`` order)."""
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.allow_nan = True
        return tags

    def _history(self, X, *, reset: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.time_unit_days > 0:
            raise ValueError(f"time_unit_days must be > 0; got {self.time_unit_days!r}")
        frame = validate_frame(self, X, reset=reset)
        x, tx, age = purchase_history(
            frame, frequency_col=self.frequency_col, span_col=self.span_col, age_col=self.age_col
        )
        return x, tx / self.time_unit_days, age / self.time_unit_days

    def fit(self, X, y=None):
        """Maximum likelihood on the purchase histories in ``X`` (``y`` is ignored)."""
        x, tx, age = self._history(X, reset=True)
        # Customers with the same (x, t_x, T) share a likelihood term: fit on the distinct
        # rows with counts as weights (far fewer rows; identical optimum).
        rows, counts = np.unique(np.column_stack([x, tx, age]), axis=0, return_counts=True)
        ux, utx, uage = rows.T
        weights = counts / counts.sum()

        def objective(log_params: np.ndarray) -> float:
            params = np.exp(log_params)
            ll = self._log_likelihood(params, ux, utx, uage)
            return float(-(weights * ll).sum() + self.penalizer * np.sum(params**2))

        result = minimize(
            objective,
            x0=np.zeros(len(self.PARAMS)),
            method="L-BFGS-B",
            options={"maxiter": self.max_iter, "ftol": 1e-13, "gtol": 1e-9},
        )
        if not result.success:
            warnings.warn(
                f"{self.NAME} fit did not converge: {result.message}",
                ConvergenceWarning,
                stacklevel=2,
            )
        values = np.exp(result.x)
        self.params_ = dict(zip(self.PARAMS, (float(v) for v in values), strict=True))
        self.log_likelihood_ = float(self._log_likelihood(values, x, tx, age).sum())
        self.n_customers_ = len(x)
        self.n_iter_ = int(result.nit)
        return self

    def _params(self) -> tuple[float, ...]:
        check_is_fitted(self)
        return tuple(self.params_[k] for k in self.PARAMS)

    def _units(self, horizon_days: float) -> float:
        if not (np.isfinite(horizon_days) and horizon_days > 0):
            raise ValueError(f"horizon_days must be finite and > 0; got {horizon_days!r}")
        return float(horizon_days) / self.time_unit_days

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per customer of ``X`` under the fitted parameters."""
        x, tx, age = self._history(X, reset=False)
        return float(self._log_likelihood(self._params(), x, tx, age).mean())

    def predict_p_alive(self, X) -> np.ndarray:
        """P(still alive at the cutoff | history), shape (n_rows,)."""
        return self._p_alive(*self._history(X, reset=False))

    def sample_orders(self, X, horizon_days: float, *, n_draws: int, random_state=None):
        """Posterior predictive draws of purchase days in the horizon: (n_rows, n_draws) ints.

        Alive with P(alive), then the subclass's draws for an alive customer; their mean
        converges to ``predict_expected_orders``. Each row draws from its own stream, keyed
        by ``random_state`` and the row's (x, t_x, T) (:func:`models._clv.row_generators`),
        so its draws do not depend on the other rows of ``X`` or their order.
        """
        x, tx, age = self._history(X, reset=False)
        t = self._units(horizon_days)
        params = self._params()
        p_alive = self._p_alive(x, tx, age)
        out = np.zeros((len(x), n_draws), dtype=np.int64)
        streams = row_generators(row_keys(x, tx, age), seed_of(random_state), self.NAME)
        for i, rng in enumerate(streams):
            alive = rng.random(n_draws) < p_alive[i]
            out[i] = np.where(alive, self._alive_counts(rng, n_draws, params, x[i], age[i], t), 0)
        return out
