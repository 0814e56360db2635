"""BetaGeoModel: the BG/NBD purchase model (Fader, Hardie & Lee 2005), fitted by maximum
likelihood with a vectorized log-likelihood.

While alive, a customer buys at rate lambda ~ Gamma(r, alpha) (a Poisson process); after
each purchase they drop out with probability p ~ Beta(a, b). Inputs are the repeat
purchase count x, the time of the last purchase t_x and the age T, all since the first
purchase (see :mod:`models._clv`). Time is counted in units of ``time_unit_days`` (weeks by
default, as in the published CDNOW figures), so ``alpha`` is in those units.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from models._clv import AGE, FREQUENCY, MONETARY, SPAN, purchase_history
from models._frame import validate_frame

PARAMS = ("r", "alpha", "a", "b")


def log_likelihood(params, x, tx, age) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood at ``params = (r, alpha, a, b)`` (time in units).

    ``L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))``
    """
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x) - (r + x) * np.log(alpha + age)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(
            x > 0,
            betaln(a + 1, b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
    return common + np.logaddexp(alive, dropped)


class BetaGeoModel(BaseEstimator):
    """BG/NBD: P(alive), expected purchases and posterior draws of purchase counts.

    ``fit(X)`` needs no target: the model is fitted on the purchase histories themselves
    (everything before the cutoff), so it can be refitted on the latest data at any
    cutoff. Learned: ``params_`` (``r, alpha, a, b``), ``log_likelihood_`` (total, in
    time units), ``n_customers_``, ``n_iter_``.

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
            ll = log_likelihood(params, ux, utx, uage)
            return float(-(weights * ll).sum() + self.penalizer * np.sum(params**2))

        result = minimize(
            objective,
            x0=np.zeros(4),
            method="L-BFGS-B",
            options={"maxiter": self.max_iter, "ftol": 1e-13, "gtol": 1e-9},
        )
        if not result.success:
            warnings.warn(
                f"BG/NBD fit did not converge: {result.message}", ConvergenceWarning, stacklevel=2
            )
        values = np.exp(result.x)
        self.params_ = dict(zip(PARAMS, (float(v) for v in values), strict=True))
        self.log_likelihood_ = float(log_likelihood(values, x, tx, age).sum())
        self.n_customers_ = len(x)
        self.n_iter_ = int(result.nit)
        return self

    def _params(self) -> tuple[float, float, float, float]:
        check_is_fitted(self)
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def _units(self, horizon_days: float) -> float:
        if not (np.isfinite(horizon_days) and horizon_days > 0):
            raise ValueError(f"horizon_days must be finite and > 0; got {horizon_days!r}")
        return float(horizon_days) / self.time_unit_days

    def _dropout_odds(self, x, tx, age) -> np.ndarray:
        """P(dropped out) / P(alive) given the history: 0 without a repeat purchase."""
        r, alpha, a, b = self._params()
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = np.log(a) - np.log(b + np.maximum(x, 1) - 1)
            log_odds = log_odds + (r + x) * (np.log(alpha + age) - np.log(alpha + tx))
        return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)

    def predict_p_alive(self, X) -> np.ndarray:
        """P(still alive at the cutoff | history), shape (n_rows,).

        A customer with no repeat purchase is alive with probability 1 under BG/NBD
        (dropout only happens right after a purchase).
        """
        x, tx, age = self._history(X, reset=False)
        return 1.0 / (1.0 + self._dropout_odds(x, tx, age))

    def predict_expected_orders(self, X, horizon_days: float) -> np.ndarray:
        """E[purchase days in (cutoff, cutoff + horizon_days] | history], shape (n_rows,).

        FHL (2005) eq. 10: ``(a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x)
        2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] / (1 + dropout odds)``.
        """
        x, tx, age = self._history(X, reset=False)
        return self._expected(x, tx, age, self._units(horizon_days))

    def _expected(self, x, tx, age, t: float) -> np.ndarray:
        r, alpha, a, b = self._params()
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + age + t))
        body = 1.0 - np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + t))) * hyp
        out = (a + b + x - 1) / (a - 1) * body / (1.0 + self._dropout_odds(x, tx, age))
        if not np.isfinite(out).all():
            i = int(np.argmax(~np.isfinite(out)))
            raise FloatingPointError(
                f"expected purchases overflowed for x={x[i]:g}, t_x={tx[i]:g}, T={age[i]:g} "
                f"(time units) with params {self.params_}"
            )
        return np.maximum(out, 0.0)

    def predict_p_purchase(self, X, horizon_days: float) -> np.ndarray:
        """P(at least one purchase in the horizon | history), shape (n_rows,).

        Alive customers buy at rate lambda ~ Gamma(r + x, alpha + T) and cannot drop out
        before their next purchase, so ``P = P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x))``.
        """
        x, tx, age = self._history(X, reset=False)
        t = self._units(horizon_days)
        r, alpha, _, _ = self._params()
        none = np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + t)))
        return (1.0 - none) / (1.0 + self._dropout_odds(x, tx, age))

    def sample_orders(self, X, horizon_days: float, *, n_draws: int, random_state=None):
        """Posterior predictive draws of purchase days in the horizon: (n_rows, n_draws) ints.

        Alive with P(alive); then lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x),
        and the count is min(Poisson(lambda t) arrivals, Geometric(p) purchases until
        dropout). Their mean converges to :meth:`predict_expected_orders`.
        """
        x, tx, age = self._history(X, reset=False)
        t = self._units(horizon_days)
        r, alpha, a, b = self._params()
        rng = check_random_state(random_state)
        shape = (len(x), n_draws)
        alive = rng.random_sample(shape) < (1.0 / (1.0 + self._dropout_odds(x, tx, age)))[:, None]
        lam = rng.gamma(np.broadcast_to((r + x)[:, None], shape)) / (alpha + age)[:, None]
        p = rng.beta(a, np.broadcast_to((b + x)[:, None], shape))
        arrivals = rng.poisson(lam * t)
        until_dropout = rng.geometric(np.clip(p, 1e-300, 1.0))
        return np.where(alive, np.minimum(arrivals, until_dropout), 0)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per customer of ``X`` under the fitted parameters."""
        x, tx, age = self._history(X, reset=False)
        return float(log_likelihood(self._params(), x, tx, age).mean())


def summary_frame(x, tx, age, monetary=np.nan, index=None) -> pd.DataFrame:
    """A purchase-summary frame with the default column names (days), e.g. for tests."""
    return pd.DataFrame({FREQUENCY: x, SPAN: tx, AGE: age, MONETARY: monetary}, index=index).astype(
        np.float64
    )
