"""What the lifelines-backed churn survival models share: the target and the interface.

The concrete models are :class:`models.churn_cox.ChurnCoxModel` and
:class:`models.churn_weibull.ChurnWeibullModel`. Both wrap a lifelines fitter explicitly
(lifelines dropped its generated sklearn adapter) and differ only in the fitter and in how
survival curves and medians are computed from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from models._frame import FrameSchema, validate_frame

DURATION_FIELD = "duration_days"
EVENT_FIELD = "event"
# Columns added to the design frame handed to lifelines; the dunder keeps them apart from
# any feature name.
_DURATION_COL = "__duration_days__"
_EVENT_COL = "__event__"


def survival_target(duration_days, event) -> np.ndarray:
    """The ``y`` of the survival models: a structured array of (event, duration_days).

    Parameters
    ----------
    duration_days : array of shape (n_rows,)
        Days from the row's cutoff to churn (``event`` true) or to the end of its follow-up
        (``event`` false, censored). Non-negative and finite.
    event : array of shape (n_rows,)
        Whether the row churned within its follow-up (bool or 0/1).
    """
    duration = np.asarray(duration_days, dtype=np.float64).ravel()
    flag = np.asarray(event).ravel()
    if duration.shape != flag.shape:
        raise ValueError(
            f"duration_days has {duration.shape[0]} values but event has {flag.shape[0]}"
        )
    if flag.dtype != bool:
        if not np.isin(flag, [0, 1]).all():
            bad = int(np.flatnonzero(~np.isin(flag, [0, 1]))[0])
            raise ValueError(f"event must be bool or 0/1; row {bad} is {flag[bad].item()!r}")
        flag = flag.astype(bool)
    y = np.empty(duration.shape[0], dtype=[(EVENT_FIELD, bool), (DURATION_FIELD, np.float64)])
    y[EVENT_FIELD] = flag
    y[DURATION_FIELD] = duration
    return y


def whole_days(duration_days: np.ndarray) -> np.ndarray:
    """Durations rounded up to whole days, at least 1.

    Day ``d`` holds events in ``(d - 1, d]``: an event 0.3 days after the cutoff happened
    on day 1. Whole days keep the Cox partial likelihood fast (ties are grouped) and no
    duration is zero, which the Weibull likelihood cannot take.
    """
    return np.maximum(np.ceil(duration_days), 1.0)


def split_target(y, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Validated (duration_days, event) from a structured array or a two-column frame."""
    if isinstance(y, pd.DataFrame):
        missing = {DURATION_FIELD, EVENT_FIELD} - set(y.columns)
        if missing:
            raise ValueError(
                f"y lacks column(s) {sorted(missing)}; a survival y has columns "
                f"{DURATION_FIELD!r} and {EVENT_FIELD!r} (see survival_target)"
            )
        y = survival_target(y[DURATION_FIELD], y[EVENT_FIELD])
    elif not (isinstance(y, np.ndarray) and y.dtype.names is not None):
        raise TypeError(
            "y must be survival_target(duration_days, event) or a DataFrame with columns "
            f"{DURATION_FIELD!r} and {EVENT_FIELD!r}; got {type(y).__name__}"
        )
    elif set(y.dtype.names) != {DURATION_FIELD, EVENT_FIELD}:
        raise ValueError(
            f"y has fields {list(y.dtype.names)}; expected {EVENT_FIELD!r} and "
            f"{DURATION_FIELD!r} (see survival_target)"
        )
    if len(y) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(y)}")
    duration = np.asarray(y[DURATION_FIELD], dtype=np.float64)
    event = np.asarray(y[EVENT_FIELD], dtype=bool)
    bad = ~np.isfinite(duration) | (duration < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"duration_days must be finite and >= 0; row {row} is {float(duration[row])} "
            f"({int(bad.sum())} such rows)"
        )
    if not event.any():
        raise ValueError("y holds no churn event; a survival model needs at least one")
    return whole_days(duration), event


class SurvivalModelBase(BaseEstimator):
    """Shared fit and predict logic; subclasses provide the fitter and the curves."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.target_tags.required = True
        return tags

    def _make_fitter(self):
        raise NotImplementedError

    def _survival(self, design: pd.DataFrame, times: np.ndarray) -> np.ndarray:
        """S(t | x), shape (n_rows, n_times)."""
        raise NotImplementedError

    def _median(self, design: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def fit(self, X, y):
        """Fit on a feature frame and ``y = survival_target(duration_days, event)``.

        Durations are rounded up to whole days (see :func:`whole_days`). Numeric columns
        are imputed with their training medians (``medians_``); categoricals are one-hot
        encoded against their training levels (``schema_.categories``), missing and unseen
        levels scored as the most frequent one. Constant columns are an error: no
        coefficient can be estimated for them.
        """
        frame = validate_frame(self, X, reset=True)
        duration, event = split_target(y, len(frame))
        self.schema_ = FrameSchema.learn(frame)
        self.medians_ = self.schema_.learn_medians(frame)
        design = self.schema_.to_design(frame, self.medians_)
        if design.shape[1] == 0:
            raise ValueError("no usable column: every categorical has a single level")
        constant = [c for c in design.columns if np.ptp(design[c].to_numpy()) == 0]
        if constant:
            raise ValueError(
                f"constant column(s) after imputation and encoding: {constant[:10]}; "
                "drop them before fitting (nothing can be learned from them)"
            )
        self.design_columns_ = tuple(design.columns)
        data = design.assign(**{_DURATION_COL: duration, _EVENT_COL: event.astype(np.float64)})
        self.fitter_ = self._make_fitter().fit(
            data.reset_index(drop=True), duration_col=_DURATION_COL, event_col=_EVENT_COL
        )
        return self

    def _design(self, X) -> pd.DataFrame:
        check_is_fitted(self)
        frame = validate_frame(self, X, reset=False)
        return self.schema_.to_design(frame, self.medians_).reset_index(drop=True)

    def predict_survival_function(self, X, times: Sequence[float]) -> np.ndarray:
        """P(no churn by day t | x) for each row and each t: shape (n_rows, len(times))."""
        grid = _check_times(times, "times")
        return self._survival(self._design(X), grid)

    def predict_churn_probability(
        self, X, horizons_days: Sequence[float] = (30, 60, 90)
    ) -> np.ndarray:
        """P(churn within h days | x) = 1 - S(h | x): shape (n_rows, len(horizons_days)).

        Columns follow ``horizons_days``; each row is non-decreasing in the horizon.
        """
        horizons = _check_times(horizons_days, "horizons_days")
        return 1.0 - self._survival(self._design(X), horizons)

    def predict_median(self, X) -> np.ndarray:
        """Median days to churn for each row: shape (n_rows,). See the subclass for inf."""
        return self._median(self._design(X))


def _check_times(times, name: str) -> np.ndarray:
    t = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if t.ndim != 1 or len(t) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of days; got {times!r}")
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValueError(f"{name} must be finite and >= 0; got {t.tolist()}")
    return t
