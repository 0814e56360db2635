"""Feature-frame handling shared by the estimators: validation, column kinds, learned levels.

A feature frame is a pandas DataFrame whose columns are numeric (any numeric or bool dtype,
nullable included; missing values as NaN/NA) or categorical (``category``, object or string
dtype). A plain 2-D array is accepted too and is all numeric; its columns are named
``x0, x1, ...``. Everything a model needs to see new rows the way it saw the training rows
(column kinds, category levels, medians) is learned at fit time into a :class:`FrameSchema`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_numeric_dtype,
    is_object_dtype,
    is_string_dtype,
)
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import validate_data


def validate_frame(estimator, X, *, reset: bool) -> pd.DataFrame:
    """Validate ``X`` and return it as a DataFrame whose columns are named as at fit time.

    Sets (``reset=True``) or checks ``n_features_in_`` and ``feature_names_in_`` through
    sklearn's ``validate_data``. The input is never modified.
    """
    if isinstance(X, pd.DataFrame):
        validate_data(estimator, X, skip_check_array=True, reset=reset)
        if X.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is "
                f"required by {type(estimator).__name__}."
            )
        if X.shape[1] == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
                f"required by {type(estimator).__name__}."
            )
        frame = X.copy(deep=False)
    else:
        arr = validate_data(
            estimator, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=reset
        )
        frame = pd.DataFrame(arr)
    # validate_data has checked the count and, for frames, the names and their order. Frames
    # whose column names are not all strings get no feature_names_in_ and are positional,
    # like arrays; so is an array scored by a model fitted on a frame.
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        names = [f"x{i}" for i in range(frame.shape[1])]
    frame.columns = list(names)
    return frame


def check_binary_target(estimator, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted classes of a two-class ``y`` and ``y`` coded 0/1 (1 = the larger class)."""
    check_classification_targets(y)
    y_type = type_of_target(y, input_name="y", raise_unknown=True)
    classes, coded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs both classes (churned and not churned); "
            f"y holds one class: {classes[0]!r}"
        )
    if y_type != "binary":
        raise ValueError(
            "Only binary classification is supported (churned or not). The type of the "
            f"target is {y_type}; classes: {classes.tolist()[:10]}"
        )
    return classes, coded


@dataclass(frozen=True)
class FrameSchema:
    """Column kinds and categorical levels learned from a training frame.

    ``categories`` maps each categorical column to its levels, most frequent first (ties by
    name), so ``levels[0]`` is the mode: the reference level of a one-hot encoding.
    """

    columns: tuple[str, ...]
    numeric: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]

    @classmethod
    def learn(cls, frame: pd.DataFrame) -> FrameSchema:
        numeric, categories = [], {}
        for col in frame.columns:
            s = frame[col]
            if _is_categorical(s):
                counts = _as_strings(s).value_counts(dropna=True)
                order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                categories[col] = tuple(level for level, _ in order)
            elif is_bool_dtype(s.dtype) or is_numeric_dtype(s.dtype):
                numeric.append(col)
            else:
                raise TypeError(
                    f"column {col!r} has dtype {s.dtype}; models take numeric, bool, "
                    "category or string columns (turn timestamps into durations, "
                    "e.g. days since the cutoff)"
                )
        return cls(tuple(frame.columns), tuple(numeric), categories)

    def numeric_values(self, frame: pd.DataFrame, col: str) -> np.ndarray:
        """A numeric column as float64 with NaN for missing; infinity is an error."""
        s = frame[col]
        if _is_categorical(s):
            raise TypeError(f"column {col!r} was numeric at fit time but is now {s.dtype}")
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(values)
        if bad.any():
            row = frame.index[int(np.argmax(bad))]
            raise ValueError(
                f"Input X contains infinity: column {col!r}, row {row!r} = {values[bad][0]}"
            )
        return values

    def to_lightgbm(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Numerics as float64, categoricals as ``category`` with the training levels.

        Levels unseen at fit time become missing. Columns are renamed ``f0, f1, ...`` so
        LightGBM never sees characters it refuses in feature names.
        """
        out = {}
        for i, col in enumerate(self.columns):
            if col in self.categories:
                out[f"f{i}"] = pd.Categorical(
                    _as_strings(frame[col]), categories=list(self.categories[col])
                )
            else:
                out[f"f{i}"] = self.numeric_values(frame, col)
        return pd.DataFrame(out, index=frame.index)

    def learn_medians(self, frame: pd.DataFrame) -> dict[str, float]:
        """Training medians of the numeric columns; an all-missing column is an error."""
        medians = {}
        for col in self.numeric:
            values = self.numeric_values(frame, col)
            if np.isnan(values).all():
                raise ValueError(f"column {col!r} has no non-missing value to learn a median from")
            medians[col] = float(np.nanmedian(values))
        return medians

    def to_design(self, frame: pd.DataFrame, medians: dict[str, float]) -> pd.DataFrame:
        """A float design matrix: numerics median-imputed, categoricals one-hot.

        Each categorical gets one 0/1 column ``"<col>=<level>"`` per level except its
        reference (most frequent) level. Missing and unseen levels are scored as the
        reference level, the categorical counterpart of median imputation.
        """
        out = {}
        for col in self.columns:
            if col in self.categories:
                strings = _as_strings(frame[col])
                for level in self.categories[col][1:]:
                    out[f"{col}={level}"] = (strings == level).fillna(False).to_numpy(float)
            else:
                values = self.numeric_values(frame, col)
                out[col] = np.where(np.isnan(values), medians[col], values)
        return pd.DataFrame(out, index=frame.index)


def _is_categorical(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or is_object_dtype(s.dtype)
        or (is_string_dtype(s.dtype) and not is_numeric_dtype(s.dtype))
    )


def _as_strings(s: pd.Series) -> pd.Series:
    """Values as pandas strings, missing kept as NA (category codes like 1 become "1")."""
    return s.astype("string")
