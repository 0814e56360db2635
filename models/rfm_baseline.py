"""RFMLogisticBaseline: the logistic regression on plain RFM columns every churn model must beat."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from models._frame import check_binary_target, validate_frame


class RFMLogisticBaseline(ClassifierMixin, BaseEstimator):
    """Median-imputed, standardized logistic regression on a few recency/frequency/money columns.

    Missing values (e.g. recency of a customer who never bought) are imputed with the
    training median and flagged by an indicator column, so "never" is not mistaken for
    "typical". The fitted sklearn pipeline is ``pipeline_``.

    Parameters
    ----------
    columns : sequence of str or None
        The RFM columns of ``X`` to use, e.g. ``("recency_days", "orders_365d",
        "revenue_365d")``; other columns are ignored. None uses every column (and is what
        an array input needs).
    C : float
        Inverse L2 strength of the logistic regression (on standardized columns).
    max_iter : int
        Iterations for the lbfgs solver.
    """

    def __init__(
        self, *, columns: Sequence[str] | None = None, C: float = 1.0, max_iter: int = 1000
    ):
        self.columns = columns
        self.C = C
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def _select(self, X, *, reset: bool) -> np.ndarray:
        frame = validate_frame(self, X, reset=reset)
        if self.columns is None:
            chosen = list(frame.columns)
        else:
            chosen = list(self.columns)
            missing = [c for c in chosen if c not in frame.columns]
            if missing:
                raise ValueError(
                    f"RFM column(s) {missing} not in X; X has: {list(frame.columns)[:30]}"
                )
        sub = frame[chosen]
        bad = [c for c in chosen if not pd.api.types.is_numeric_dtype(sub[c].dtype)]
        if bad:
            raise ValueError(f"RFM columns must be numeric; {bad} are not")
        return check_array(
            sub.to_numpy(dtype=np.float64, na_value=np.nan),
            ensure_all_finite="allow-nan",
            estimator=self,
        )

    def fit(self, X, y):
        """Fit the pipeline on the RFM columns of ``X``; ``y`` has two classes."""
        values = self._select(X, reset=True)
        y = column_or_1d(y, warn=True)
        if len(y) != len(values):
            raise ValueError(f"X has {len(values)} rows but y has {len(y)}")
        self.classes_, _ = check_binary_target(self, y)
        self.pipeline_ = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=self.C, max_iter=self.max_iter),
        ).fit(values, y)
        self.n_iter_ = self.pipeline_[-1].n_iter_
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities, shape (n_rows, 2), columns in ``classes_`` order."""
        check_is_fitted(self)
        return self.pipeline_.predict_proba(self._select(X, reset=False))

    def predict(self, X) -> np.ndarray:
        """The more probable class of each row, shape (n_rows,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
