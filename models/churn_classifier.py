"""ChurnClassifier: LightGBM with native missing values and categoricals, calibrated on a
time-held-out fold of the latest snapshot cutoffs, optionally blended with BG/NBD."""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d

from features.errors import unknown_name_message
from models._clv import AGE, FREQUENCY, SPAN
from models._frame import FrameSchema, check_binary_target, validate_frame
from models.clv_bgnbd import BetaGeoModel
from models.reasons import BIAS_COLUMN

CALIBRATION_METHODS = ("sigmoid", "isotonic")
PURCHASE_HISTORY = (FREQUENCY, SPAN, AGE)
"""Columns the BG/NBD blend reads (``features.purchase_days``): x, t_x and T in days."""


class ChurnClassifier(ClassifierMixin, BaseEstimator):
    """Gradient-boosted churn classifier with probability calibration on later cutoffs.

    The booster (``classifier_``, an ``LGBMClassifier``) is trained on the earlier snapshot
    cutoffs; the calibrator (``calibrator_``) is fitted on the booster's log-odds for the
    latest cutoffs, so it learns how the booster's scores translate into churn rates one
    step forward in time, as they will be used. Calibration is monotone, so the ranking and
    the contributions of :meth:`predict_contributions` are the booster's.

    With ``purchase_model_horizon_days`` set, the calibrator is a logistic stack of the
    booster's log-odds and the log-odds of a BG/NBD model's P(no purchase day in the next
    ``purchase_model_horizon_days``) (``purchase_model_``, a
    :class:`~models.clv_bgnbd.BetaGeoModel` fitted without labels on the purchase
    histories of the latest cutoff). Why: trees cannot extrapolate, so when the scored
    customers are older than any trained on (a young cohort, a growing shop), the
    booster misses how churn rises with age; BG/NBD's closed form carries the history
    (x, t_x, T) to any age, so the blend follows that level shift. The ranking then mixes
    both, and :meth:`predict_contributions` still explains the booster's part only.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, max_depth, min_child_samples, subsample,
    subsample_freq, colsample_bytree, reg_alpha, reg_lambda, min_data_per_group :
        Passed to ``lightgbm.LGBMClassifier``.
    importance_type : {"gain", "split"}
        What ``feature_importances_`` measures (shares summing to 1).
    calibration_method : {"sigmoid", "isotonic"}
        ``"sigmoid"`` is Platt scaling of the booster's log-odds (with Platt's smoothed
        targets); it keeps the ranking and suits small folds. ``"isotonic"`` is a
        monotone step function: more flexible, needs a larger fold, and ties scores.
    calibration_size : float in (0, 1) or int >= 1
        Size of the calibration fold. With ``time``: a float takes the latest cutoffs that
        together hold at least this share of rows, an int the latest this many distinct
        cutoffs; a cutoff is never split and at least one cutoff is left for training.
        Without ``time``: a float is a share of rows, an int a number of rows.
    purchase_model_horizon_days : float or None
        None (default): calibrate the booster alone. A number of days (the label horizon):
        blend in BG/NBD's P(no purchase day within that many days), as above. X must then
        hold the purchase-history columns :data:`PURCHASE_HISTORY`; rows missing them
        (no purchase yet) get the booster plus a learned offset. Needs
        ``calibration_method="sigmoid"``.
    random_state : int, RandomState or None
        Seeds LightGBM and the random calibration fold used when ``time`` is None.
    n_jobs : int or None
        LightGBM threads (None: LightGBM's default).
    """

    def __init__(
        self,
        *,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        max_depth: int = -1,
        min_child_samples: int = 20,
        subsample: float = 1.0,
        subsample_freq: int = 0,
        colsample_bytree: float = 1.0,
        reg_alpha: float = 0.0,
        reg_lambda: float = 0.0,
        min_data_per_group: int = 100,
        importance_type: str = "gain",
        calibration_method: str = "sigmoid",
        calibration_size: float | int = 0.2,
        purchase_model_horizon_days: float | None = None,
        random_state=None,
        n_jobs: int | None = None,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.min_data_per_group = min_data_per_group
        self.importance_type = importance_type
        self.calibration_method = calibration_method
        self.calibration_size = calibration_size
        self.purchase_model_horizon_days = purchase_model_horizon_days
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y, *, time=None):
        """Fit the booster on the earlier cutoffs and the calibrator on the latest ones.

        Parameters
        ----------
        X : DataFrame or array of shape (n_rows, n_features)
            Numeric columns (NaN for missing) and categorical columns (``category`` or
            strings); LightGBM handles both natively.
        y : array of shape (n_rows,)
            Two classes; the larger label (after sorting) is churn, e.g. 1 or True.
        time : array of shape (n_rows,), optional
            Each row's snapshot cutoff (datetimes or numbers). The latest cutoffs form the
            calibration fold (see ``calibration_size``). When None, the fold is a random
            stratified share of rows drawn with ``random_state``: calibration then sees the
            same period as training and cannot correct drift, so pass ``time`` whenever the
            rows come from several cutoffs.

        Returns
        -------
        self
        """
        if self.calibration_method not in CALIBRATION_METHODS:
            raise ValueError(
                unknown_name_message(
                    "calibration_method", str(self.calibration_method), CALIBRATION_METHODS
                )
            )
        self._check_purchase_model()
        frame = validate_frame(self, X, reset=True)
        y = column_or_1d(y, warn=True)
        if len(y) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(y)}")
        self.classes_, y01 = check_binary_target(self, y)
        self.schema_ = FrameSchema.learn(frame)
        data = self.schema_.to_lightgbm(frame)
        train, calib, self.calibration_cutoff_ = self._split(y01, time)
        for fold, rows in (("training", train), ("calibration", calib)):
            if len(np.unique(y01[rows])) < 2:
                raise ValueError(
                    f"the {fold} fold ({len(rows)} rows) holds only one class; both churners "
                    "and non-churners are needed (change calibration_size or add cutoffs)"
                )
        self.classifier_ = LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            max_depth=self.max_depth,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=self.subsample_freq,
            colsample_bytree=self.colsample_bytree,
            reg_alpha=self.reg_alpha,
            reg_lambda=self.reg_lambda,
            min_data_per_group=self.min_data_per_group,
            importance_type=self.importance_type,
            random_state=_seed(self.random_state),
            n_jobs=self.n_jobs,
            verbose=-1,
        ).fit(data.iloc[train], y01[train])
        self.purchase_model_ = self._fit_purchase_model(frame, time)
        inputs = self._calibration_inputs(frame.iloc[calib], data.iloc[calib])
        self.calibrator_ = _fit_calibrator(self.calibration_method, inputs, y01[calib])
        importances = np.asarray(self.classifier_.feature_importances_, dtype=np.float64)
        total = importances.sum()
        self.feature_importances_ = importances / total if total > 0 else importances
        self.n_training_rows_ = len(train)
        self.n_calibration_rows_ = len(calib)
        return self

    def _check_purchase_model(self) -> None:
        days = self.purchase_model_horizon_days
        if days is None:
            return
        if isinstance(days, bool) or not isinstance(days, Real) or not 0 < days < np.inf:
            raise ValueError(
                f"purchase_model_horizon_days must be None or a number of days > 0; got {days!r}"
            )
        if self.calibration_method != "sigmoid":
            raise ValueError(
                "purchase_model_horizon_days blends BG/NBD in a logistic stack, which needs "
                f"calibration_method='sigmoid'; got {self.calibration_method!r}"
            )

    def _fit_purchase_model(self, frame: pd.DataFrame, time) -> BetaGeoModel | None:
        """BG/NBD on the purchase histories of the latest cutoff (all rows without ``time``).

        Unsupervised: it reads the features (purchases before each cutoff) and no label.
        One cutoff only, since the likelihood takes each customer once.
        """
        if self.purchase_model_horizon_days is None:
            return None
        rows = frame
        if time is not None:
            t = np.asarray(time)
            rows = frame[t == t.max()]
        known = _history_known(rows)
        if known.sum() < 2:
            raise ValueError(
                f"the BG/NBD blend needs purchase histories ({', '.join(PURCHASE_HISTORY)}); "
                f"{int(known.sum())} row(s) of the latest cutoff have one"
            )
        return BetaGeoModel().fit(rows.loc[known, list(PURCHASE_HISTORY)])

    def _calibration_inputs(self, frame: pd.DataFrame, data: pd.DataFrame) -> np.ndarray:
        """The calibrator's inputs: booster log-odds, then with the BG/NBD blend the log-odds
        of P(no purchase in the horizon) (0 without a history) and a has-history flag."""
        margin = np.asarray(self.classifier_.predict(data, raw_score=True), dtype=np.float64)
        if self.purchase_model_ is None:
            return margin.reshape(-1, 1)
        known = _history_known(frame)
        logit = np.zeros(len(frame))
        if known.any():
            history = frame.loc[known, list(PURCHASE_HISTORY)]
            bought = self.purchase_model_.predict_p_purchase(
                history, self.purchase_model_horizon_days
            )
            p_none = np.clip(1.0 - bought, 1e-6, 1.0 - 1e-6)
            logit[known] = np.log(p_none) - np.log1p(-p_none)
        return np.column_stack([margin, logit, known.astype(np.float64)])

    def calibration_split(self, y, time=None) -> tuple[np.ndarray, np.ndarray]:
        """Row positions ``(training, calibration)`` that :meth:`fit` would use for ``y``
        and ``time``: the booster learns on the first, the calibrator on the second.

        For tuners, so they tune the booster on the rows it is fitted on. Needs no fit and
        sets nothing on the estimator.
        """
        _, y01 = check_binary_target(self, column_or_1d(y, warn=True))
        train, calib, _ = self._split(y01, time)
        return train, calib

    def _split(self, y01: np.ndarray, time) -> tuple[np.ndarray, np.ndarray, object]:
        """Row positions of the training and calibration folds, and the calibration fold's
        first cutoff (None for a random fold)."""
        n = len(y01)
        size = self.calibration_size
        is_int = isinstance(size, int | np.integer) and not isinstance(size, bool)
        if not (is_int and size >= 1) and not (isinstance(size, float) and 0 < size < 1):
            raise ValueError(
                f"calibration_size must be a float in (0, 1) or an int >= 1; got {size!r}"
            )
        rows = np.arange(n)
        if time is None:
            return (
                *_stratified_split(y01, size / n if is_int else size, self.random_state),
                None,
            )
        t = pd.Series(np.asarray(time))
        if len(t) != n:
            raise ValueError(f"time has {len(t)} values but X has {n} rows")
        if t.isna().any():
            raise ValueError(f"time is missing at row {int(np.flatnonzero(t.isna())[0])}")
        counts = t.value_counts().sort_index(ascending=False)  # latest cutoff first
        if len(counts) < 2:
            raise ValueError(
                f"time holds a single cutoff ({counts.index[0]!r}); a time-held-out "
                "calibration fold needs at least two (or pass time=None for a random fold)"
            )
        if is_int:
            if size >= len(counts):
                raise ValueError(
                    f"calibration_size={size} cutoffs leaves none of the {len(counts)} "
                    "distinct cutoffs to train on"
                )
            n_cutoffs = size
        else:
            n_cutoffs = int(np.searchsorted(counts.cumsum().to_numpy(), round(size * n, 9)) + 1)
            n_cutoffs = min(n_cutoffs, len(counts) - 1)
        cutoff = counts.index[n_cutoffs - 1]
        in_calib = (t >= cutoff).to_numpy()
        return rows[~in_calib], rows[in_calib], cutoff

    def _data(self, X) -> pd.DataFrame:
        check_is_fitted(self)
        return self.schema_.to_lightgbm(validate_frame(self, X, reset=False))

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probabilities, shape (n_rows, 2), columns in ``classes_`` order.

        Each row's probability depends on that row only (the BG/NBD blend uses the
        parameters fitted in :meth:`fit`).
        """
        check_is_fitted(self)
        frame = validate_frame(self, X, reset=False)
        inputs = self._calibration_inputs(frame, self.schema_.to_lightgbm(frame))
        p = np.clip(_apply_calibrator(self.calibrator_, inputs), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """The more probable class of each row, shape (n_rows,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_contributions(self, X) -> pd.DataFrame:
        """Per-row SHAP values of the booster, in log-odds of churn.

        Returns a DataFrame of shape (n_rows, n_features + 1), indexed like ``X``: one
        column per input feature (named as in ``X``) plus ``"bias"``, the expected log-odds.
        Each row sums to the booster's (uncalibrated) log-odds.

        TreeSHAP is far slower than scoring: about 1.5 ms per row and thread with the
        default 300 trees (``benchmarks/churn_scoring.py``), so compute contributions for
        the rows that need reasons (the risk list), not for every customer.
        """
        data = self._data(X)
        contrib = self.classifier_.predict(data, pred_contrib=True)
        columns = [*self.schema_.columns, BIAS_COLUMN]
        return pd.DataFrame(np.asarray(contrib), index=data.index, columns=columns)


def _stratified_split(y01: np.ndarray, share: float, random_state) -> tuple[np.ndarray, np.ndarray]:
    """A random calibration fold holding ``share`` of each class, at least one row of each,
    and leaving at least one row of each class to train on."""
    rng = check_random_state(random_state)
    train, calib = [], []
    for label in (0, 1):
        rows = np.flatnonzero(y01 == label)
        if len(rows) < 2:
            raise ValueError(
                f"class {label} has {len(rows)} row; a calibration fold needs at least two "
                "rows of each class (one to train on, one to calibrate on)"
            )
        rows = rng.permutation(rows)
        k = int(np.clip(round(share * len(rows)), 1, len(rows) - 1))
        calib.append(rows[:k])
        train.append(rows[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(calib))


def _seed(random_state) -> int | None:
    """LightGBM takes an int seed; draw one from a RandomState so a shared one still works."""
    if random_state is None:
        return None
    if isinstance(random_state, int | np.integer):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _history_known(frame: pd.DataFrame) -> np.ndarray:
    """Rows with every purchase-history column present (a customer who has bought)."""
    missing = [c for c in PURCHASE_HISTORY if c not in frame.columns]
    if missing:
        raise ValueError(
            f"purchase_model_horizon_days needs the purchase-history columns {missing} in X "
            f"(features.purchase_days); X has: {list(frame.columns)[:30]}"
        )
    return frame[list(PURCHASE_HISTORY)].notna().all(axis=1).to_numpy()


def _fit_calibrator(method: str, inputs: np.ndarray, y01: np.ndarray):
    """Isotonic on the single input column, or Platt's logistic fit on every column."""
    if method == "isotonic":
        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(inputs[:, 0], y01)
    # Platt (1999): fit a sigmoid of the inputs to smoothed targets, which keeps the fit
    # finite when the fold is separable. Soft targets = each row twice, weighted.
    n_pos = int(y01.sum())
    n_neg = len(y01) - n_pos
    target = np.where(y01 == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    z = np.concatenate([inputs, inputs])
    labels = np.concatenate([np.ones(len(y01)), np.zeros(len(y01))])
    weights = np.concatenate([target, 1.0 - target])
    return LogisticRegression(C=np.inf).fit(z, labels, sample_weight=weights)


def _apply_calibrator(calibrator, inputs: np.ndarray) -> np.ndarray:
    if isinstance(calibrator, IsotonicRegression):
        return calibrator.predict(inputs[:, 0])
    return calibrator.predict_proba(inputs)[:, 1]
