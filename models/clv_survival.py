"""SurvivalCLVModel: a cure-rate Weibull model of the time to the next purchase (built on
lifelines' parametric regression) times a Gamma-Gamma spend estimate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import autograd.numpy as anp
import numpy as np
import pandas as pd
from lifelines.fitters import ParametricRegressionFitter
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from models._clv import (
    FREQUENCY,
    INTERVAL_QUANTILES,
    MONETARY,
    clv_frame,
    column,
    row_generators,
    row_keys,
    seed_of,
)
from models._frame import validate_frame
from models.clv_gamma_gamma import GammaGammaModel

COVARIATES = ("repeat_purchase_days", "age_at_purchase_days", "purchase_spend", "gap_mean_days")
INTERCEPT = "Intercept"


class CureWeibullFitter(ParametricRegressionFitter):
    """After a purchase a customer never buys again with probability ``cure`` (logistic in
    the covariates), else their next purchase comes after Weibull(lambda, rho) days::

        S(t | x) = cure(x) + (1 - cure(x)) exp(-(t / lambda(x)) ** rho)

    with ``log lambda`` linear in the covariates and one ``rho``. Gradients come from
    lifelines' autograd; durations must be > 0.
    """

    _fitted_parameter_names = ["lambda_", "rho_", "cure_"]

    def _cumulative_hazard(self, params, T, Xs):
        lam = anp.exp(anp.dot(Xs["lambda_"], params["lambda_"]))
        rho = anp.exp(anp.dot(Xs["rho_"], params["rho_"]))
        cure = 1.0 / (1.0 + anp.exp(-anp.dot(Xs["cure_"], params["cure_"])))
        return -anp.log(cure + (1.0 - cure) * anp.exp(-((T / lam) ** rho)))

    def _create_initial_point(self, Ts, E, entries, weights, Xs):
        start = {name: np.zeros(Xs[name].shape[1]) for name in self._fitted_parameter_names}
        # lambda starts at the median gap (lifelines leaves the constant column at 1).
        start["lambda_"][list(Xs["lambda_"].columns).index(INTERCEPT)] = np.log(np.median(Ts[0]))
        return start


class SurvivalCLVModel(RegressorMixin, BaseEstimator):
    """Expected spend over ``horizon_days`` from a time-to-next-purchase model.

    ``fit(X)`` takes one row per purchase day before the cutoff (see
    ``features.purchase_days.build_purchase_gaps``): the covariates as of that purchase,
    the days to the next purchase day (``duration_col``) and whether it came before the
    cutoff (``event_col``; the customer's last purchase is censored at the cutoff). No
    label window is needed, so it is fitted on everything before the scoring cutoff.

    ``predict*`` take each customer's open gap: their last purchase's row, whose duration
    is the days since it. With ``cure`` and ``S`` of that row, ``P(alive) = (1 - cure)
    S(r) / (cure + (1 - cure) S(r))`` after ``r`` quiet days; the first purchase in the
    horizon follows ``S(r + t) / S(r)``, later ones renew with the customer's gap
    distribution after one more purchase (``frequency_col`` + 1, the other covariates held
    at the cutoff's values), each followed by a new chance of never buying again. Expected purchase days come from that renewal sum on a
    daily grid; spend per purchase day from a Gamma-Gamma fit (pooled toward the
    population for customers with few purchases). The interval simulates the same process.

    Parameters
    ----------
    horizon_days : int
        Length of the prediction window ``[cutoff, cutoff + horizon_days)``, in days.
    duration_col, event_col : str
        Gap length in days and whether the next purchase was observed.
    covariates : sequence of str
        Columns entering ``log lambda`` and the cure logit, as ``log(1 + value)`` (missing
        values count as 0: e.g. no gap yet).
    frequency_col, monetary_col : str
        Repeat purchase days so far and their mean spend, for the Gamma-Gamma part.
    penalizer : float
        L2 penalty on the covariate coefficients (lifelines' ``penalizer``).
    n_draws : int
        Simulated futures per customer for the interval.
    random_state : int, RandomState or None
        Seeds the simulation. With an int, a customer's P10-P90 is a function of her
        inputs alone (the same in any batch or engine); None draws a fresh seed per call.
    """

    def __init__(
        self,
        *,
        horizon_days: int = 181,
        duration_col: str = "gap_days",
        event_col: str = "next_purchase",
        covariates: Sequence[str] = COVARIATES,
        frequency_col: str = FREQUENCY,
        monetary_col: str = MONETARY,
        penalizer: float = 0.001,
        n_draws: int = 400,
        random_state=None,
    ):
        self.horizon_days = horizon_days
        self.duration_col = duration_col
        self.event_col = event_col
        self.covariates = covariates
        self.frequency_col = frequency_col
        self.monetary_col = monetary_col
        self.penalizer = penalizer
        self.n_draws = n_draws
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.allow_nan = True
        return tags

    def _design(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = {INTERCEPT: np.ones(len(frame))}
        for name in self.covariates:
            values = column(frame, name, role="covariate", parameter="covariates")
            if (values[np.isfinite(values)] < 0).any():
                raise ValueError(f"covariate {name!r} must be >= 0 (it enters as log(1 + value))")
            out[name] = np.log1p(np.nan_to_num(values, nan=0.0))
        return pd.DataFrame(out, index=frame.index)

    def _gaps(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        duration = column(frame, self.duration_col, role="duration")
        event = column(frame, self.event_col, role="event")
        bad = ~np.isfinite(duration) | (duration < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{self.duration_col} must be finite and >= 0; row {frame.index[i]!r} is "
                f"{duration[i]}"
            )
        if not np.isin(event, [0.0, 1.0]).all():
            raise ValueError(f"{self.event_col} must be bool or 0/1")
        return duration, event.astype(bool)

    def fit(self, X, y=None):
        """Fit the gap model on every purchase day's gap and Gamma-Gamma on the open gaps."""
        if int(self.horizon_days) != self.horizon_days or self.horizon_days < 1:
            raise ValueError(f"horizon_days must be a whole number >= 1; got {self.horizon_days}")
        frame = validate_frame(self, X, reset=True)
        duration, event = self._gaps(frame)
        if not event.any():
            raise ValueError("no gap ends in a purchase: the gap model needs repeat purchases")
        design = self._design(frame)
        names = list(design.columns)
        # A gap of d days is a purchase on day d after the last (1 for the next day); the
        # Weibull needs durations > 0, and a same-day repeat is one purchase day.
        data = design.assign(__duration=np.maximum(duration, 0.5), __event=event)
        self.fitter_ = CureWeibullFitter(penalizer=self.penalizer).fit(
            data.reset_index(drop=True),
            duration_col="__duration",
            event_col="__event",
            regressors={"lambda_": names, "rho_": [INTERCEPT], "cure_": names},
        )
        self.spend_ = GammaGammaModel(
            frequency_col=self.frequency_col, monetary_col=self.monetary_col
        ).fit(frame[~event])
        return self

    def _parameters(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """cure(x), lambda(x) and rho per row."""
        design = self._design(frame)
        p = self.fitter_.params_
        lam = np.exp(design[p["lambda_"].index].to_numpy() @ p["lambda_"].to_numpy())
        cure = 1.0 / (1.0 + np.exp(-(design[p["cure_"].index].to_numpy() @ p["cure_"].to_numpy())))
        rho = np.full(len(frame), float(np.exp(p["rho_"][INTERCEPT])))
        return cure, lam, rho

    def _process(self, X):
        """Per open gap: P(alive), the pmf of the first purchase day (days 1..H) and of a
        later gap, from the cure-rate Weibull."""
        check_is_fitted(self)
        frame = validate_frame(self, X, reset=False)
        elapsed, _ = self._gaps(frame)
        cure, lam, rho = self._parameters(frame)
        days = np.arange(int(self.horizon_days) + 1, dtype=np.float64)

        def weibull(t):
            return np.exp(-((t / lam[:, None]) ** rho[:, None]))

        quiet = weibull(elapsed[:, None])[:, 0]
        alive = (1 - cure) * quiet / (cure + (1 - cure) * quiet)
        later = weibull(elapsed[:, None] + days[None, :]) / np.maximum(quiet, 1e-300)[:, None]
        first = alive[:, None] * (later[:, :-1] - later[:, 1:])
        # Later gaps start after one more purchase: the purchase count moves on by one, the
        # other covariates stay at their values at the cutoff.
        if self.frequency_col in self.covariates:
            after = frame.assign(**{self.frequency_col: frame[self.frequency_col] + 1})
            cure, lam, rho = self._parameters(after)
        fresh = weibull(days[None, :])
        gap = (1 - cure)[:, None] * (fresh[:, :-1] - fresh[:, 1:])
        return frame, alive, first, gap

    def predict_expected_orders(self, X) -> np.ndarray:
        """Expected purchase days in the horizon, shape (n_rows,)."""
        _, _, first, gap = self._process(X)
        return _renewal_density(first, gap).sum(axis=1)

    def predict_p_alive(self, X) -> np.ndarray:
        """P(the customer will ever buy again), shape (n_rows,)."""
        return self._process(X)[1]

    def predict(self, X) -> np.ndarray:
        """Expected spend over the horizon, shape (n_rows,)."""
        frame, _, first, gap = self._process(X)
        return _renewal_density(first, gap).sum(axis=1) * self.spend_.predict_spend(frame)

    def predict_frame(self, X) -> pd.DataFrame:
        """``clv, clv_p10, clv_p90, p_alive, expected_orders``, indexed like ``X``."""
        frame, alive, first, gap = self._process(X)
        orders = _renewal_density(first, gap).sum(axis=1)
        spend = self.spend_.predict_spend(frame)
        seed = seed_of(self.random_state)
        names = dict.fromkeys([*self.covariates, self.duration_col, self.frequency_col])
        keys = row_keys(*(column(frame, n, role="input") for n in names))
        counts = _simulate_counts(first, gap, self.n_draws, row_generators(keys, seed, "gaps"))
        totals = self.spend_.sample_total_spend(frame, counts, random_state=seed)
        lower, upper = np.quantile(totals, INTERVAL_QUANTILES, axis=1)
        return clv_frame(
            frame.index,
            clv=orders * spend,
            clv_p10=lower,
            clv_p90=upper,
            p_alive=alive,
            expected_orders=orders,
        )


def _renewal_density(first: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """Expected purchases on each day 1..H: n[d] = first[d] + sum_u n[u] gap[d - u]."""
    n = np.zeros_like(first)
    for d in range(first.shape[1]):
        n[:, d] = first[:, d] + np.einsum("ij,ij->i", n[:, :d], gap[:, d - 1 :: -1][:, :d])
    return n


def _simulate_counts(
    first, gap, n_draws: int, streams: Iterable[np.random.Generator]
) -> np.ndarray:
    """Draws of the number of purchase days in the horizon, shape (n_rows, n_draws), row i
    from the i-th generator of ``streams`` (:func:`models._clv.row_generators`)."""
    horizon = first.shape[1]
    counts = np.zeros((first.shape[0], n_draws), dtype=np.int64)
    for i, rng in zip(range(first.shape[0]), streams, strict=True):
        cdf_first, cdf_gap = np.cumsum(first[i]), np.cumsum(gap[i])
        # The day (1-based) of each draw's next purchase; past the horizon: none.
        day = np.searchsorted(cdf_first, rng.random(n_draws), side="right") + 1
        while (active := day <= horizon).any():
            counts[i] += active
            step = np.searchsorted(cdf_gap, rng.random(n_draws), side="right") + 1
            day = np.where(active, day + step, horizon + 1)
    return counts
