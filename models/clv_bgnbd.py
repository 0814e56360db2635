"""BetaGeoModel: the BG/NBD purchase model (Fader, Hardie & Lee 2005), fitted by maximum
likelihood with a vectorized log-likelihood.

While alive, a customer buys at rate lambda ~ Gamma(r, alpha) (a Poisson process); after
each purchase they drop out with probability p ~ Beta(a, b). Inputs are the repeat
purchase count x, the time of the last purchase t_x and the age T, all since the first
purchase (see :mod:`models._clv`). Time is counted in units of ``time_unit_days`` (weeks by
default, as in the published CDNOW figures), so ``alpha`` is in those units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln, hyp2f1

from models._clv import AGE, FREQUENCY, MONETARY, SPAN
from models._purchase_process import PurchaseProcessModel

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


class BetaGeoModel(PurchaseProcessModel):
    """BG/NBD: P(alive), expected purchases and posterior draws of purchase counts.

    ``fit(X)`` needs no target: the model is fitted on the purchase histories themselves
    (everything before the cutoff), so it can be refitted on the latest data at any
    cutoff. Learned: ``params_`` (``r, alpha, a, b``), ``log_likelihood_`` (total, in
    time units), ``n_customers_``, ``n_iter_``.

    Parameters: see :class:`models._purchase_process.PurchaseProcessModel`.
    """

    PARAMS = PARAMS
    NAME = "BG/NBD"
    _log_likelihood = staticmethod(log_likelihood)

    def _dropout_odds(self, x, tx, age) -> np.ndarray:
        """P(dropped out) / P(alive) given the history: 0 without a repeat purchase."""
        r, alpha, a, b = self._params()
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = np.log(a) - np.log(b + np.maximum(x, 1) - 1)
            log_odds = log_odds + (r + x) * (np.log(alpha + age) - np.log(alpha + tx))
        return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)

    def _p_alive(self, x, tx, age) -> np.ndarray:
        """P(alive | history): 1 without a repeat purchase under BG/NBD (dropout only
        happens right after a purchase)."""
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

    def _alive_counts(
        self, rng, n_draws: int, params: tuple[float, ...], x: float, age: float, t: float
    ) -> np.ndarray:
        """lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x); the count is
        min(Poisson(lambda t) arrivals, Geometric(p) purchases until dropout)."""
        r, alpha, a, b = params
        lam = rng.standard_gamma(r + x, n_draws) / (alpha + age)
        p = rng.beta(a, b + x, n_draws)
        return np.minimum(rng.poisson(lam * t), rng.geometric(np.clip(p, 1e-300, 1.0)))


def summary_frame(x, tx, age, monetary=np.nan, index=None) -> pd.DataFrame:
    """A purchase-summary frame with the default column names (days), e.g. for tests."""
    return pd.DataFrame({FREQUENCY: x, SPAN: tx, AGE: age, MONETARY: monetary}, index=index).astype(
        np.float64
    )
