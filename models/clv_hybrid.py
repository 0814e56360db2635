"""HybridCLVModel: purchase dynamics for the level, gradient boosting for the ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted, column_or_1d

from models._clv import clv_frame
from models._frame import validate_frame
from models.clv_bgnbd_gg import BetaGeoCLVModel
from models.clv_boosted import BoostedCLVModel

# Columns the dynamics model adds to the booster's features (when dynamics_features).
DYNAMICS_FEATURES = ("dynamics_clv", "dynamics_p_alive", "dynamics_expected_orders")
_FLOOR = 1e-9


class HybridCLVModel(RegressorMixin, BaseEstimator):
    """Expected revenue whose level comes from a purchase-dynamics model fitted at the
    scoring cutoff and whose shape comes from a booster trained on labelled snapshots.

    Customers age: a booster trained on snapshots whose label windows have closed has
    only seen customers younger than those it scores, and trees cannot extrapolate, so
    its level drifts. A label-free dynamics model (BG/NBD + Gamma-Gamma), refitted on the
    histories at the latest cutoff, models the ageing itself but ranks less well. The
    hybrid predicts, per row::

        clv = level_factor_ * dynamics_clv ** w * booster_clv ** (1 - w)

    with ``w = dynamics_weight`` and ``level_factor_`` set so that, over the rows of the
    latest cutoff in ``fit`` (the population to be scored), the total equals the dynamics
    model's total. Each row is scored on its own (no batch statistics at predict time).

    ``fit(X, y, time=...)`` takes snapshots stacked over cutoffs. Rows with a label
    (``y`` finite) train the booster; rows whose label window is still open (``y`` NaN)
    belong to the latest cutoff, the one to be scored, and are used only by the label-free
    parts. Pass the latest snapshot that way: the level is taken there. The dynamics model
    is fitted at every cutoff on that cutoff's rows, and with ``dynamics_features`` its
    outputs (:data:`DYNAMICS_FEATURES`) become booster features, each row seeing those of
    its own cutoff.

    ``predict_frame`` gives ``p_alive`` from the dynamics model, ``expected_orders`` and the
    P10-P90 interval of the dynamics model scaled by ``clv / dynamics_clv``.

    Parameters
    ----------
    dynamics : estimator or None
        Label-free model with ``fit(X)`` and ``predict_frame(X, interval=...)``; default
        ``BetaGeoCLVModel()``. Its horizon must be the labels' horizon.
    booster : estimator or None
        Supervised model with ``fit(X, y)`` and ``predict(X)``; default ``BoostedCLVModel()``.
    dynamics_weight : float in [0, 1]
        w above: 0 takes the ranking from the booster alone, 1 is the dynamics model.
    dynamics_features : bool
        Whether the booster sees the dynamics model's outputs as features.
    season_days : float or None
        Seasonality: when a labelled cutoff lies within ``season_tolerance_days`` of
        ``season_days`` before the latest one (``time`` as datetimes, or numbers in days),
        the level is also multiplied by the dynamics model's bias there, its actual total
        over its predicted total (``season_ratio_``; 1 when there is no such cutoff).
        BG/NBD assumes a steady purchase rate: a window holding the holiday season is
        underpredicted, as it was in the same window a year before.
    season_tolerance_days : float
        How far from exactly ``season_days`` back the reference cutoff may lie.
    """

    def __init__(
        self,
        *,
        dynamics=None,
        booster=None,
        dynamics_weight: float = 0.0,
        dynamics_features: bool = True,
        season_days: float | None = None,
        season_tolerance_days: float = 15.0,
    ):
        self.dynamics = dynamics
        self.booster = booster
        self.dynamics_weight = dynamics_weight
        self.dynamics_features = dynamics_features
        self.season_days = season_days
        self.season_tolerance_days = season_tolerance_days

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    def fit(self, X, y, *, time=None):
        """Fit the dynamics model per cutoff, the booster on labelled rows, then the level.

        Parameters
        ----------
        X : DataFrame
            Features, including the dynamics model's purchase-summary columns.
        y : array of shape (n_rows,)
            Revenue over each row's horizon; NaN for rows whose window is still open.
        time : array of shape (n_rows,), optional
            Each row's cutoff. None means one cutoff (then every row needs a label).
        """
        w = self.dynamics_weight
        if not 0.0 <= w <= 1.0:
            raise ValueError(f"dynamics_weight must be in [0, 1]; got {w!r}")
        frame = validate_frame(self, X, reset=True)
        y = column_or_1d(y, warn=True).astype(np.float64)
        if len(y) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(y)}")
        cutoff = _cutoffs(time, len(frame))
        latest = cutoff == cutoff.max()
        unlabelled = np.isnan(y)
        stray = unlabelled & ~latest
        if stray.any():
            i = int(np.argmax(stray))
            raise ValueError(
                f"y is missing at row {frame.index[i]!r} of cutoff {cutoff[i]}; only the "
                f"latest cutoff ({cutoff.max()}), the one to be scored, may lack labels"
            )
        if unlabelled.all():
            raise ValueError("no row has a label: the booster needs labelled snapshots")
        dynamics = self.dynamics if self.dynamics is not None else BetaGeoCLVModel()
        booster = self.booster if self.booster is not None else BoostedCLVModel()
        dyn = pd.DataFrame(np.nan, index=frame.index, columns=list(DYNAMICS_FEATURES))
        for value in np.unique(cutoff):
            rows = cutoff == value
            fitted = clone(dynamics).fit(frame[rows])
            dyn.iloc[np.flatnonzero(rows)] = _dynamics_columns(fitted, frame[rows]).to_numpy()
            if value == cutoff.max():
                self.dynamics_ = fitted
        labelled = ~unlabelled
        self.booster_ = clone(booster).fit(self._augment(frame, dyn)[labelled], y[labelled])
        self.level_cutoff_ = cutoff.max()
        raw = self._blend(dyn[latest], self.booster_.predict(self._augment(frame, dyn)[latest]))
        self.season_cutoff_, self.season_ratio_ = self._season(cutoff, y, dyn["dynamics_clv"])
        level = dyn["dynamics_clv"][latest].sum() * self.season_ratio_
        self.level_factor_ = float(level / raw.sum())
        return self

    def _season(self, cutoff: np.ndarray, y: np.ndarray, dyn: pd.Series):
        """The labelled cutoff about ``season_days`` back and the dynamics bias there."""
        if self.season_days is None:
            return None, 1.0
        days = _days(cutoff)
        gap = np.abs(days.max() - self.season_days - days)
        labelled = ~np.isnan(y)
        near = labelled & (gap <= self.season_tolerance_days)
        if not near.any():
            return None, 1.0
        rows = near & (days == days[near][np.argmin(gap[near])])
        predicted = float(dyn.to_numpy()[rows].sum())
        if predicted <= 0:
            return None, 1.0
        return cutoff[rows][0], float(y[rows].sum() / predicted)

    def _augment(self, frame: pd.DataFrame, dyn: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([frame, dyn], axis=1) if self.dynamics_features else frame

    def _blend(self, dyn: pd.DataFrame, boosted: np.ndarray) -> np.ndarray:
        w = self.dynamics_weight
        log_dyn = np.log(np.maximum(dyn["dynamics_clv"].to_numpy(), _FLOOR))
        log_boost = np.log(np.maximum(boosted, _FLOOR))
        return np.exp(w * log_dyn + (1.0 - w) * log_boost)

    def _score(self, X) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
        check_is_fitted(self)
        frame = validate_frame(self, X, reset=False)
        dynamics = self.dynamics_.predict_frame(frame, interval=False)
        dyn = _rename(dynamics)
        clv = self.level_factor_ * self._blend(
            dyn, self.booster_.predict(self._augment(frame, dyn))
        )
        return frame, dynamics, clv

    def predict(self, X) -> np.ndarray:
        """Expected revenue over the horizon, shape (n_rows,)."""
        return self._score(X)[2]

    def predict_frame(self, X) -> pd.DataFrame:
        """``clv, clv_p10, clv_p90, p_alive, expected_orders``, indexed like ``X``."""
        frame, _, clv = self._score(X)
        dynamics = self.dynamics_.predict_frame(frame, interval=True)
        scale = clv / np.maximum(dynamics["clv"].to_numpy(), _FLOOR)
        return clv_frame(
            frame.index,
            clv=clv,
            clv_p10=dynamics["clv_p10"].to_numpy() * scale,
            clv_p90=dynamics["clv_p90"].to_numpy() * scale,
            p_alive=dynamics["p_alive"].to_numpy(),
            expected_orders=dynamics["expected_orders"].to_numpy() * scale,
        )


def _rename(dynamics: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dynamics_clv": dynamics["clv"].to_numpy(),
            "dynamics_p_alive": dynamics["p_alive"].to_numpy(),
            "dynamics_expected_orders": dynamics["expected_orders"].to_numpy(),
        },
        index=dynamics.index,
    )


def _dynamics_columns(model, frame: pd.DataFrame) -> pd.DataFrame:
    return _rename(model.predict_frame(frame, interval=False))


def _days(cutoff: np.ndarray) -> np.ndarray:
    """Cutoffs as days (datetimes from their minimum; numbers as they are)."""
    if np.issubdtype(cutoff.dtype, np.datetime64):
        return (cutoff - cutoff.min()) / np.timedelta64(1, "D")
    return cutoff.astype(np.float64)


def _cutoffs(time, n: int) -> np.ndarray:
    if time is None:
        return np.zeros(n)
    t = np.asarray(time)
    if t.shape != (n,):
        raise ValueError(f"time has shape {t.shape}; expected one cutoff per row ({n},)")
    if pd.isna(t).any():
        raise ValueError(f"time is missing at row {int(np.argmax(pd.isna(t)))}")
    return t
