"""The ordinal fit link shared by the size models: too small / fit / too large in a size gap.

For one size dimension, ``z`` is the gap in steps between the size bought and the size
that fits (negative: bought too small). With slope ``a > 0`` and half-width ``h > 0`` of
the fit zone, an ordinal logistic model with two thresholds ``-a*h < a*h`` gives

    P(too small) = sigmoid(-a (z + h))
    P(too large) = sigmoid( a (z - h))
    P(fit)       = sigmoid(a (h - z)) * sigmoid(a (h + z)) * (1 - exp(-2 a h))

(the last form is the difference of the two cumulative probabilities, written as a
product so that it never cancels to zero or below). ``P(fit)`` is symmetric and unimodal
in ``z``, so the best size in a dimension is the nearest one to the size that fits.

Two-dimensional sizes (bras: band and cup volume) combine per-dimension outcomes: a bra
fits when both dimensions fit; one dimension too small and the other fitting or too small
is too small (and likewise too large); opposite misfits (tight band, loose cups) are
split evenly. Every class probability is then ``q0 @ COMBINE[y] @ q1`` with ``q`` the
per-dimension ``(small, fit, large)`` probabilities; a one-dimensional size uses
``q1 = FIT_ONLY`` which makes ``P = q0``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

COMBINE = np.array(
    [
        [[1.0, 1.0, 0.5], [1.0, 0.0, 0.0], [0.5, 0.0, 0.0]],  # too small
        [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]],  # fit
        [[0.0, 0.0, 0.5], [0.0, 0.0, 1.0], [0.5, 1.0, 1.0]],  # too large
    ]
)
FIT_ONLY = np.array([0.0, 1.0, 0.0])
_EPS = 1e-300


def link_proba(z, slope, half_width, var=None) -> np.ndarray:
    """Per-dimension ``(small, fit, large)`` probabilities, shape ``(n, 3)``.

    ``var`` is the variance of ``z`` (posterior uncertainty of the sizes); it is integrated
    out with the probit approximation ``sigmoid(x / sqrt(1 + pi a^2 var / 8))``.
    """
    z = np.asarray(z, dtype=float)
    a = np.broadcast_to(np.asarray(slope, dtype=float), z.shape)
    h = np.broadcast_to(np.asarray(half_width, dtype=float), z.shape)
    if var is not None:
        a = a / np.sqrt(1.0 + np.pi * a**2 * np.asarray(var, dtype=float) / 8.0)
    s = expit(-a * (z + h))
    large = expit(a * (z - h))
    f = expit(a * (h - z)) * expit(a * (h + z)) * -np.expm1(-2.0 * a * h)
    return np.stack([s, f, large], axis=-1)


def combine_proba(q0: np.ndarray, q1: np.ndarray | None = None) -> np.ndarray:
    """Class probabilities ``(n, 3)`` from per-dimension ones; ``q1=None`` for a 1-D size.

    Equals ``einsum("ni,yij,nj->ny", q0, COMBINE, q1)``, written out for speed.
    """
    if q1 is None:
        return q0
    s0, f0, l0 = q0[..., 0], q0[..., 1], q0[..., 2]
    s1, f1, l1 = q1[..., 0], q1[..., 1], q1[..., 2]
    small = s0 * (s1 + f1 + 0.5 * l1) + s1 * (f0 + 0.5 * l0)
    large = l0 * (l1 + f1 + 0.5 * s1) + l1 * (f0 + 0.5 * s0)
    return np.stack([small, f0 * f1, large], axis=-1)


def class_likelihood(y, z0, a0, h0, z1=None, a1=None, h1=None):
    """``P(y)`` of observed classes and its derivatives, written out for speed.

    Returns ``p`` and, per dimension, ``(dp/dz, dp/dlog_slope, dp/dlog_half)``; the
    second dimension is ``None`` when ``z1`` is (a 1-D size: ``q1 = FIT_ONLY``).
    """
    s0, f0, l0, ds0, dl0 = _terms(z0, a0, h0)
    small, fit = y == 0, y == 1
    if z1 is None:
        s1, f1, l1 = 0.0, 1.0, 0.0
    else:
        s1, f1, l1, ds1, dl1 = _terms(z1, a1, h1)
    # dP/dq of one dimension is COMBINE[y] @ q of the other (COMBINE[y] is symmetric).
    g_s0, g_f0, g_l0 = _grad_q(small, fit, s1, f1, l1)
    p = np.maximum(s0 * g_s0 + f0 * g_f0 + l0 * g_l0, _EPS)
    dims = [_chain(z0, a0, h0, ds0, dl0, g_s0, g_f0, g_l0)]
    if z1 is None:
        dims.append(None)
    else:
        dims.append(_chain(z1, a1, h1, ds1, dl1, *_grad_q(small, fit, s0, f0, l0)))
    return p, dims[0], dims[1]


def _terms(z, a, h):
    s = expit(-a * (z + h))
    large = expit(a * (z - h))
    f = expit(a * (h - z)) * expit(a * (h + z)) * -np.expm1(-2.0 * a * h)
    return s, f, large, s * (1.0 - s), large * (1.0 - large)


def _grad_q(small, fit, s, f, large):
    g_s = np.where(small, s + f + 0.5 * large, np.where(fit, 0.0, 0.5 * large))
    g_f = np.where(small, s, np.where(fit, f, large))
    g_l = np.where(small, 0.5 * s, np.where(fit, 0.0, large + f + 0.5 * s))
    return g_s, g_f, g_l


def _chain(z, a, h, ds, dl, g_s, g_f, g_l):
    """dP/dz, dP/dlog a, dP/dlog h from dP/dq through ``s``, ``l`` and ``f = 1 - s - l``."""
    lo, hi = ds * (g_s - g_f), dl * (g_l - g_f)
    return a * (hi - lo), a * ((z - h) * hi - (z + h) * lo), -a * h * (lo + hi)


def fisher_information(z0, a0, h0, z1=None, a1=None, h1=None):
    """Expected information ``sum_y (dP_y/dz)^2 / P_y`` about ``z0`` (and ``z1``), per row."""
    info0 = np.zeros(len(z0))
    info1 = None if z1 is None else np.zeros(len(z0))
    for k in range(3):
        y = np.full(len(z0), k)
        p, d0, d1 = class_likelihood(y, z0, a0, h0, z1, a1, h1)
        info0 += d0[0] ** 2 / p
        if d1 is not None:
            info1 += d1[0] ** 2 / p
    return info0, info1


LINKS = ("sum", "both")


class FitLink:
    """The ordinal link of one size system, with its parameters.

    One-dimensional sizes use the link on the gap. Two-dimensional (bra) sizes combine
    band and cup-volume gaps ``(z0, z1)`` in one of two ways:

    - ``"sum"``: the outcome is ordinal in ``w * z0 + z1``, a band step weighing ``w`` cup
      steps (one slope and half-width);
    - ``"both"``: per-dimension outcomes combined by ``combine_proba`` (it fits when band
      and cup both fit; a slope and half-width per dimension).

    Recorded outcomes under-report misfits: a customer who keeps an ill-fitting item and
    says nothing is recorded as a fit. With report rate ``rho``, the recorded outcome is a
    misfit with probability ``rho * P(misfit)``. ``proba`` gives the true probabilities,
    ``likelihood`` those of the record (what the fit sees). Per class the record is a
    monotone transform of the truth, so ranking metrics are the same on either.

    ``params``: ``[log slope..., log half_width..., (log w), logit rho]``.
    """

    def __init__(self, kind: str, dims: int, params: np.ndarray | None = None):
        if kind not in LINKS:
            raise ValueError(f"unknown link {kind!r}; valid: {', '.join(LINKS)}")
        self.kind, self.dims = kind, dims
        self.summed = kind == "sum" and dims == 2
        self._k = 1 if self.summed else dims
        n = 2 * self._k + self.summed + 1
        if params is None:
            start = [np.log(2.0)] * self._k + [np.log(0.5)] * self._k + [0.0] * self.summed
            params = np.array([*start, 2.0])
        self.params = np.asarray(params, dtype=float)
        if self.params.shape != (n,):
            raise ValueError(f"{kind} link of {dims} dims needs {n} params")

    @property
    def slope(self) -> np.ndarray:
        return np.exp(self.params[: self._k])

    @property
    def half_width(self) -> np.ndarray:
        return np.exp(self.params[self._k : 2 * self._k])

    @property
    def band_weight(self) -> float:
        return float(np.exp(self.params[2])) if self.summed else 1.0

    @property
    def offset_free(self) -> np.ndarray:
        """Which dimensions carry an item offset: a summed link sees only the combination
        ``w * offset_band + offset_volume``, so the whole offset goes on the cup volume
        (a style that runs small takes a cup up, not a band)."""
        return np.arange(self.dims) >= (1 if self.summed else 0)

    @property
    def report_rate(self) -> float:
        return float(expit(self.params[-1]))

    def with_params(self, params: np.ndarray) -> FitLink:
        return FitLink(self.kind, self.dims, params)

    def proba(self, z: np.ndarray, var: np.ndarray | None = None) -> np.ndarray:
        """``(..., 3)`` true class probabilities at gaps ``z`` ``(..., dims)``, variances ``var``."""
        var = np.zeros_like(z) if var is None else np.broadcast_to(var, z.shape)
        a, h = self.slope, self.half_width
        if self.summed:
            w = self.band_weight
            return link_proba(
                w * z[..., 0] + z[..., 1], a[0], h[0], w**2 * var[..., 0] + var[..., 1]
            )
        q = [link_proba(z[..., d], a[d], h[d], var[..., d]) for d in range(self.dims)]
        return combine_proba(q[0], q[1] if self.dims == 2 else None)

    def recorded_proba(self, z: np.ndarray) -> np.ndarray:
        """``(..., 3)`` probabilities of the recorded outcome."""
        p = self.proba(z)
        rho = self.report_rate
        small, large = rho * p[..., 0], rho * p[..., 2]
        return np.stack([small, 1.0 - small - large, large], axis=-1)

    def likelihood(self, y: np.ndarray, z: np.ndarray):
        """Recorded ``P(y)``, its derivatives in each gap ``(n, dims)`` and in ``params``."""
        a, h = self.slope, self.half_width
        if self.summed:
            w = self.band_weight
            p, (dz, da, dh), _ = class_likelihood(y, w * z[:, 0] + z[:, 1], a[0], h[0])
            dz_all = np.column_stack([w * dz, dz])
            dparams = np.column_stack([da, dh, w * z[:, 0] * dz])
        else:
            args = []
            for d in range(self.dims):
                args += [z[:, d], a[d], h[d]]
            p, *derivs = class_likelihood(y, *args)
            derivs = [d for d in derivs if d is not None]
            dz_all = np.column_stack([d[0] for d in derivs])
            dparams = np.column_stack([d[1] for d in derivs] + [d[2] for d in derivs])
        rho = self.report_rate
        # P_rec(misfit class) = rho P; P_rec(fit) = 1 - rho (1 - P): derivatives scale by rho
        recorded = np.where(y == 1, 1.0 - rho * (1.0 - p), rho * p)
        d_rho = np.where(y == 1, -(1.0 - p), p) * rho * (1.0 - rho)
        return recorded, rho * dz_all, np.column_stack([rho * dparams, d_rho])

    def information(self, z: np.ndarray) -> np.ndarray:
        """Expected information about each gap from the recorded outcome, ``(n, dims)``."""
        info = np.zeros(z.shape)
        for k in range(3):
            p, dz, _ = self.likelihood(np.full(len(z), k), z)
            info += dz**2 / np.maximum(p, _EPS)[:, None]
        return info
