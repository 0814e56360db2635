"""The registered ``churn`` model: calibrated churn probability plus plain-language reasons.

``predict`` takes rows of the feature table (``customer_id`` plus feature columns; extra
columns such as ``as_of`` are ignored) and returns, in row order, ``customer_id``,
``p_churn`` and ``reason_1..3`` / ``reason_1..3_feature`` (see ``CONTRACTS.md``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from models.churn_classifier import ChurnClassifier
from models.reasons import top_reasons

KEY = "customer_id"
N_REASONS = 3
OUTPUT_COLUMNS = (
    KEY,
    "p_churn",
    *(f"reason_{r}" for r in range(1, N_REASONS + 1)),
    *(f"reason_{r}_feature" for r in range(1, N_REASONS + 1)),
)
# predict(params=...) defaults; "reasons": False skips TreeSHAP (about 1.5 ms per row and
# thread) and leaves the reason columns null, for scoring everyone before picking a list.
PREDICT_PARAMS = {"reasons": True}


def feature_input(model_input: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The model's feature columns of ``model_input``, in fit order, with a 0..n-1 index."""
    if not isinstance(model_input, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of feature rows; got {type(model_input)}")
    missing = [c for c in [KEY, *features] if c not in model_input.columns]
    if missing:
        raise ValueError(
            f"input lacks {len(missing)} required column(s): {missing[:20]}; "
            "score rows of the feature table (features.builders.build_features)"
        )
    return model_input[features].reset_index(drop=True)


class ChurnPyfunc(PythonModel):
    """Wraps a fitted :class:`ChurnClassifier` and the reason templates of the features.

    Parameters
    ----------
    classifier : ChurnClassifier
        Fitted on a frame whose columns are the feature names.
    templates : mapping of feature name to reason template
        ``features.builders.feature_reasons(params)``; features without one read
        ``"<name>: <value>"``.
    reasons : int
        How many reason slots get filled (1..3); the others stay null.
    """

    def __init__(
        self, classifier: ChurnClassifier, templates: Mapping[str, str], *, reasons: int = 3
    ):
        if not 1 <= reasons <= N_REASONS:
            raise ValueError(f"reasons must be 1..{N_REASONS}; got {reasons}")
        self.classifier = classifier
        self.templates = dict(templates)
        self.reasons = reasons

    @property
    def features(self) -> list[str]:
        return list(self.classifier.feature_names_in_)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        opts = {**PREDICT_PARAMS, **(params or {})}
        X = feature_input(model_input, self.features)
        out = pd.DataFrame({KEY: model_input[KEY].astype(str).to_numpy()})
        out["p_churn"] = self.classifier.predict_proba(X)[:, 1].astype(np.float64)
        n = len(X)
        if opts["reasons"]:
            contrib = self.classifier.predict_contributions(X)
            reasons = top_reasons(contrib, X, self.templates, k=self.reasons)
        else:
            reasons = pd.DataFrame(index=X.index)
        for r in range(1, N_REASONS + 1):
            for col in (f"reason_{r}", f"reason_{r}_feature"):
                out[col] = (
                    reasons[col].to_numpy(dtype=object)
                    if col in reasons
                    else np.full(n, None, dtype=object)
                )
        return out[list(OUTPUT_COLUMNS)]
