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

import numpy as np
from scipy.special import gammaln, hyp2f1

from models._purchase_process import PurchaseProcessModel

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


class ParetoNBDModel(PurchaseProcessModel):
    """Pareto/NBD: P(alive), expected purchases and posterior draws of purchase counts.

    ``fit(X)`` needs no target: the model is fitted on the purchase histories themselves
    (everything before the cutoff), so it can be refitted at any cutoff. It has the
    interface of :class:`models.clv_bgnbd.BetaGeoModel` that the CLV models use
    (``predict_p_alive``, ``predict_expected_orders``, ``sample_orders``). Learned:
    ``params_`` (``r, alpha, s, beta``), ``log_likelihood_`` (total, in time units),
    ``n_customers_``, ``n_iter_``.

    Parameters: see :class:`models._purchase_process.PurchaseProcessModel`.
    """

    PARAMS = PARAMS
    NAME = "Pareto/NBD"
    _log_likelihood = staticmethod(log_likelihood)

    def _p_alive(self, x, tx, age) -> np.ndarray:
        """P(alive | history) (FH eq. 37)."""
        r, alpha, s, beta = params = self._params()
        log_odds = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + age)
            + s * np.log(beta + age)
            + log_a0(params, x, tx, age)
        )
        return 1.0 / (1.0 + np.exp(np.minimum(log_odds, 700.0)))

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

    def _alive_counts(
        self, rng, n_draws: int, params: tuple[float, ...], x: float, age: float, t: float
    ) -> np.ndarray:
        """lambda ~ Gamma(r + x, alpha + T) and mu ~ Gamma(s, beta + T) (their posteriors
        given alive at T), a remaining lifetime ~ Exp(mu); the count is
        Poisson(lambda min(lifetime, t))."""
        r, alpha, s, beta = params
        lam = rng.standard_gamma(r + x, n_draws) / (alpha + age)
        mu = rng.standard_gamma(s, n_draws) / (beta + age)
        lifetime = rng.standard_exponential(n_draws) / np.maximum(mu, 1e-300)
        return rng.poisson(lam * np.minimum(lifetime, t))
