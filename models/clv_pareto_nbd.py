"""ParetoNBDModel: the Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987),
fitted by maximum likelihood with a vectorized log-likelihood.

While alive, a customer buys at rate lambda ~ Gamma(r, alpha) (a Poisson process); their
lifetime is exponential with rate mu ~ Gamma(s, beta), so they may drop out at any time,
not only right after a purchase as in BG/NBD. Inputs are the repeat purchase count x, the
time of the last purchase t_x and the age T, all since the first purchase (see
:mod:`models._clv`), counted in units of ``time_unit_days`` (weeks by default, as in the
published CDNOW figures). Formulas follow Fader & Hardie (2005), "A Note on Deriving the
Pareto/NBD Model and Related Expressions", equations (18)-(20), (37) and (41).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from models._clv import AGE, FREQUENCY, SPAN, purchase_history
from models._frame import validate_frame

PARAMS = ("r", "alpha", "s", "beta")


def log_a0(params, x, tx, age) -> np.ndarray:
    """log A_0 of FH (2005) eqs. (19)-(20): the likelihood mass of dying in (t_x, T].

    ``A_0 = F(t_x) / (m + t_x)^(r+s+x) - F(T) / (m + T)^(r+s+x)`` with ``m = max(alpha,
    beta)`` and ``F(u) = 2F1(r+s+x, c; r+s+x+1; |alpha - beta| / (m + u))``, ``c = s + 1``
    when alpha >= beta, else ``r + x``. It is 0 (log -inf) when t_x = T.
    """
    r, alpha, s, beta = params
    rsx = r + s + x
    big, c = (alpha, s + 1.0) if alpha >= beta else (beta, r + x)
    gap = abs(alpha - beta)
    first = np.log(hyp2f1(rsx, c, rsx + 1.0, gap / (big + tx))) - rsx * np.log(big + tx)
    second = np.log(hyp2f1(rsx, c, rsx + 1.0, gap / (big + age))) - rsx * np.log(big + age)
    with np.errstate(divide="ignore", invalid="ignore"):
        # log(e^first - e^second), first >= second; exactly -inf when t_x = T.
        return np.where(first > second, first + np.log(-np.expm1(second - first)), -np.inf)


def log_likelihood(params, x, tx, age) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood at ``params = (r, alpha, s, beta)`` (FH eq. 18).

    ``L = G(r+x) alpha^r beta^s / G(r) * [1 / ((alpha+T)^(r+x) (beta+T)^s)
    + s / (r+s+x) * A_0]``
    """
    r, alpha, s, beta = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    dead = np.log(s) - np.log(r + s + x) + log_a0(params, x, tx, age)
    return common + np.logaddexp(alive, dead)


class ParetoNBDModel(BaseEstimator):
    """Pareto/NBD: P(alive), expected purchases and posterior draws of purchase counts.

    ``fit(X)`` needs no target: the model is fitted on the purchase histories themselves
    (everything before the cutoff), so it can be refitted at any cutoff. It has the
    interface of :class:`models.clv_bgnbd.BetaGeoModel` that the CLV models use
    (``predict_p_alive``, ``predict_expected_orders``, ``sample_orders``). Learned:
    ``params_`` (``r, alpha, s, beta``), ``log_likelihood_`` (total, in time units),
    ``n_customers_``, ``n_iter_``.

    Parameters
    ----------
    frequency_col, span_col, age_col : str
        Columns of X holding x (repeat purchase days), t_x and T (days).
    time_unit_days : float
        Days per model time unit: 7 gives weeks (the published CDNOW parameters).
    penalizer : float
        L2 penalty on the parameters added to the mean negative log-likelihood; 0 is plain
        maximum likelihood.
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
                f"Pareto/NBD fit did not converge: {result.message}",
                ConvergenceWarning,
                stacklevel=2,
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
        return p["r"], p["alpha"], p["s"], p["beta"]

    def _units(self, horizon_days: float) -> float:
        if not (np.isfinite(horizon_days) and horizon_days > 0):
            raise ValueError(f"horizon_days must be finite and > 0; got {horizon_days!r}")
        return float(horizon_days) / self.time_unit_days

    def _p_alive(self, x, tx, age) -> np.ndarray:
        r, alpha, s, beta = params = self._params()
        log_odds = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + age)
            + s * np.log(beta + age)
            + log_a0(params, x, tx, age)
        )
        return 1.0 / (1.0 + np.exp(np.minimum(log_odds, 700.0)))

    def predict_p_alive(self, X) -> np.ndarray:
        """P(still alive at the cutoff | history), shape (n_rows,) (FH eq. 37)."""
        return self._p_alive(*self._history(X, reset=False))

    def predict_expected_orders(self, X, horizon_days: float) -> np.ndarray:
        """E[purchase days in (cutoff, cutoff + horizon_days] | history], shape (n_rows,).

        FH eq. (41): ``P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T) /
        (beta+T+t))^(s-1)]``; the bracket over ``s - 1`` tends to ``log((beta+T+t) /
        (beta+T))`` as s -> 1.
        """
        x, tx, age = self._history(X, reset=False)
        t = self._units(horizon_days)
        r, alpha, s, beta = self._params()
        log_ratio = np.log(beta + age) - np.log(beta + age + t)  # < 0
        if abs(s - 1.0) < 1e-10:
            remaining = -log_ratio
        else:
            remaining = -np.expm1((s - 1.0) * log_ratio) / (s - 1.0)
        rate = (r + x) / (alpha + age) * (beta + age)
        return self._p_alive(x, tx, age) * rate * remaining

    def sample_orders(self, X, horizon_days: float, *, n_draws: int, random_state=None):
        """Posterior predictive draws of purchase days in the horizon: (n_rows, n_draws) ints.

        Alive with P(alive); then lambda ~ Gamma(r + x, alpha + T) and mu ~ Gamma(s,
        beta + T) (their posteriors given alive at T), a remaining lifetime ~ Exp(mu), and
        the count ~ Poisson(lambda min(lifetime, t)). Their mean converges to
        :meth:`predict_expected_orders`.
        """
        x, tx, age = self._history(X, reset=False)
        t = self._units(horizon_days)
        r, alpha, s, beta = self._params()
        rng = check_random_state(random_state)
        shape = (len(x), n_draws)
        alive = rng.random_sample(shape) < self._p_alive(x, tx, age)[:, None]
        lam = rng.gamma(np.broadcast_to((r + x)[:, None], shape)) / (alpha + age)[:, None]
        mu = rng.gamma(s, size=shape) / (beta + age)[:, None]
        lifetime = rng.exponential(size=shape) / np.maximum(mu, 1e-300)
        counts = rng.poisson(lam * np.minimum(lifetime, t))
        return np.where(alive, counts, 0)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per customer of ``X`` under the fitted parameters."""
        x, tx, age = self._history(X, reset=False)
        return float(log_likelihood(self._params(), x, tx, age).mean())
