"""BoostedCLVModel: LightGBM hurdle model of revenue over a horizon, with a zero-inflated
gamma head for the P10-P90 interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from scipy import stats
from scipy.optimize import minimize_scalar
from scipy.special import gammaln
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, column_or_1d

from models._clv import INTERVAL_QUANTILES, clv_frame
from models._frame import FrameSchema, validate_frame
from models.churn_classifier import _seed


class BoostedCLVModel(RegressorMixin, BaseEstimator):
    """Revenue over the horizon = P(any purchase) x E[revenue | a purchase].

    ``classifier_`` (an ``LGBMClassifier``) learns whether a customer buys in the window,
    ``regressor_`` (an ``LGBMRegressor`` with the gamma objective) how much buyers spend,
    times ``spend_scale_`` so that the buyers' fitted spend adds up to their actual spend.
    Both see the same features, typically snapshots stacked over several cutoffs, each
    row labelled with its own window. A tree cannot extrapolate: scored on customers older
    than any it was trained on, it predicts as for the oldest it saw, so on an ageing
    customer base its level drifts up; :class:`models.clv_hybrid.HybridCLVModel` takes the
    level from a purchase-dynamics model instead.

    The interval is a zero-inflated gamma: no revenue with probability ``1 - P(buy)``,
    else Gamma(``spend_shape_``, mean E[revenue | buy]), with the shape fitted by maximum
    likelihood on the training buyers. When every training row has revenue there is
    nothing to classify: ``classifier_`` is None and P(buy) is 1.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, max_depth, min_child_samples, subsample,
    subsample_freq, colsample_bytree, reg_alpha, reg_lambda, min_data_per_group :
        Passed to both LightGBM models.
    random_state : int, RandomState or None
        Seeds LightGBM.
    n_jobs : int or None
        LightGBM threads.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        max_depth: int = -1,
        min_child_samples: int = 50,
        subsample: float = 1.0,
        subsample_freq: int = 0,
        colsample_bytree: float = 1.0,
        reg_alpha: float = 0.0,
        reg_lambda: float = 0.0,
        min_data_per_group: int = 100,
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
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.target_tags.positive_only = True
        return tags

    def _lgbm(self) -> dict:
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "min_child_samples": self.min_child_samples,
            "subsample": self.subsample,
            "subsample_freq": self.subsample_freq,
            "colsample_bytree": self.colsample_bytree,
            "reg_alpha": self.reg_alpha,
            "reg_lambda": self.reg_lambda,
            "min_data_per_group": self.min_data_per_group,
            "random_state": _seed(self.random_state),
            "n_jobs": self.n_jobs,
            "verbose": -1,
        }

    def fit(self, X, y):
        """Fit on a feature frame and ``y`` = revenue over each row's horizon (>= 0).

        Needs at least two rows with revenue and one without.
        """
        frame = validate_frame(self, X, reset=True)
        y = column_or_1d(y, warn=True).astype(np.float64)
        if len(y) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(y)}")
        bad = ~np.isfinite(y) | (y < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"y must be finite revenue >= 0; row {frame.index[i]!r} is {y[i]} "
                f"({int(bad.sum())} such rows; clip net refunds at 0 before fitting)"
            )
        buy = y > 0
        if buy.sum() < 2:
            raise ValueError(
                f"y needs at least two rows with revenue to learn spend; it has {int(buy.sum())} "
                f"(n_samples = {len(y)})"
            )
        self.schema_ = FrameSchema.learn(frame)
        data = self.schema_.to_lightgbm(frame)
        self.classifier_ = (
            LGBMClassifier(**self._lgbm()).fit(data, buy.astype(int)) if (~buy).any() else None
        )
        self.regressor_ = LGBMRegressor(objective="gamma", **self._lgbm()).fit(data[buy], y[buy])
        fitted = self.regressor_.predict(data[buy])
        # The gamma deviance balances y / mean, not y - mean: rescale so the buyers' fitted
        # spend adds up to what they spent.
        self.spend_scale_ = float(y[buy].sum() / fitted.sum())
        self.spend_shape_ = _gamma_shape(y[buy], self.spend_scale_ * fitted)
        return self

    def _parts(self, X) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        check_is_fitted(self)
        frame = validate_frame(self, X, reset=False)
        data = self.schema_.to_lightgbm(frame)
        if self.classifier_ is None:
            p_buy = np.ones(len(frame))
        else:
            p_buy = self.classifier_.predict_proba(data)[:, 1]
        return frame.index, p_buy, self.spend_scale_ * self.regressor_.predict(data)

    def predict_p_purchase(self, X) -> np.ndarray:
        """P(any purchase in the horizon), shape (n_rows,)."""
        return self._parts(X)[1]

    def predict(self, X) -> np.ndarray:
        """Expected revenue over the horizon, shape (n_rows,)."""
        _, p_buy, spend = self._parts(X)
        return p_buy * spend

    def predict_frame(self, X) -> pd.DataFrame:
        """``clv, clv_p10, clv_p90, p_alive, expected_orders``, indexed like ``X``.

        This model predicts revenue only: ``p_alive`` and ``expected_orders`` are NaN
        (:class:`models.clv_hybrid.HybridCLVModel` fills them from its dynamics model).
        """
        index, p_buy, spend = self._parts(X)
        lower, upper = (
            zero_inflated_gamma_quantile(q, p_buy, spend, self.spend_shape_)
            for q in INTERVAL_QUANTILES
        )
        nan = np.full(len(index), np.nan)
        return clv_frame(
            index, clv=p_buy * spend, clv_p10=lower, clv_p90=upper, p_alive=nan, expected_orders=nan
        )


def zero_inflated_gamma_quantile(q: float, p_buy, mean, shape: float) -> np.ndarray:
    """The q-quantile of 0 with probability 1 - p_buy, else Gamma(shape, mean / shape)."""
    p_buy, mean = np.asarray(p_buy, dtype=np.float64), np.asarray(mean, dtype=np.float64)
    above = (q - (1.0 - p_buy)) / np.maximum(p_buy, 1e-300)
    inside = above > 0
    out = np.zeros_like(p_buy)
    out[inside] = stats.gamma.ppf(above[inside], shape, scale=mean[inside] / shape)
    return out


def _gamma_shape(y: np.ndarray, mean: np.ndarray) -> float:
    """Maximum-likelihood shape k of Gamma(k, mean_i / k) for observations y_i.

    With r = y / mean, the mean log-likelihood is ``k log k - lgamma(k) + k mean(log r - r)``
    plus terms free of k; it is concave in k.
    """
    ratio = y / mean
    moment = float(np.mean(np.log(ratio) - ratio))

    def negative_log_likelihood(log_k: float) -> float:
        k = np.exp(log_k)
        return -(k * log_k - gammaln(k) + k * moment)

    result = minimize_scalar(negative_log_likelihood, bounds=(-10.0, 10.0), method="bounded")
    return float(np.exp(result.x))
