"""Size and fit metrics: small pure functions, tested against independent computations.

- :func:`average_ovr_auc`: the fit-prediction literature's metric (Misra et al. 2018
  report 0.615 for 1-LV and 0.657 for their best method on ModCloth): the mean over the
  fit classes of the one-vs-rest ROC AUC.
- :func:`hit_rate`: share of held-out *kept* purchases bought in the recommended size.
- :func:`fit_return_rates`: the expected fit-return rate of what was bought and of the
  recommended sizes under a ground-truth oracle (a simulator's ``fit_probabilities``).
- :func:`true_size_recovery`: share of customers whose estimated size is their true one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features.contract.schema import FIT_FEEDBACK


def per_class_auc(y_true, proba, classes=FIT_FEEDBACK) -> dict[str, float]:
    """One-vs-rest ROC AUC of each class; ``proba`` columns follow ``classes``."""
    y = np.asarray(y_true, dtype=object)
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(y), len(classes)):
        raise ValueError(f"proba has shape {proba.shape}; expected ({len(y)}, {len(classes)})")
    unknown = sorted(set(y) - set(classes))
    if unknown:
        raise ValueError(f"y_true holds {unknown}; valid classes: {', '.join(classes)}")
    out = {}
    for k, cls in enumerate(classes):
        positive = y == cls
        if positive.all() or not positive.any():
            raise ValueError(
                f"AUC of {cls!r} is undefined: y_true has {positive.sum()} of {len(y)}"
            )
        out[cls] = float(roc_auc_score(positive, proba[:, k]))
    return out


def average_ovr_auc(y_true, proba, classes=FIT_FEEDBACK) -> float:
    """Mean one-vs-rest ROC AUC over the fit classes (unweighted)."""
    return float(np.mean(list(per_class_auc(y_true, proba, classes).values())))


def hit_rate(bought_sizes, recommended_sizes, outcomes, kept: str = "fit") -> float:
    """Share of kept purchases (``outcomes == kept``) whose size is the recommended one."""
    bought = np.asarray(bought_sizes, dtype=object).astype(str)
    rec = pd.Series(np.asarray(recommended_sizes, dtype=object))
    is_kept = np.asarray(outcomes, dtype=object) == kept
    if not len(bought) == len(rec) == len(is_kept):
        raise ValueError("bought_sizes, recommended_sizes and outcomes differ in length")
    if not is_kept.any():
        raise ValueError(f"no purchase has outcome {kept!r}: the hit rate is undefined")
    hits = rec.notna().to_numpy() & (rec.astype(str).to_numpy() == bought)
    return float(hits[is_kept].mean())


def fit_return_rates(
    purchases: pd.DataFrame,
    recommended_sizes,
    fit_probabilities: Callable[[pd.DataFrame], np.ndarray],
    *,
    size_col: str = "size",
) -> dict[str, float]:
    """Expected fit-return rate of the sizes bought and of the recommended sizes.

    ``fit_probabilities(frame)`` is the ground truth (e.g. a simulator's oracle): for
    each row of ``frame`` (``purchases`` with ``size_col`` set to the size considered) it
    returns ``(n, 3)`` P(too small), P(fit), P(too large). The fit-return rate is the mean
    of ``1 - P(fit)``; ``reduction`` is ``1 - recommended / bought``.
    """
    rec = np.asarray(recommended_sizes, dtype=object)
    if len(rec) != len(purchases):
        raise ValueError(f"{len(rec)} recommended sizes for {len(purchases)} purchases")
    if pd.isna(rec).any():
        raise ValueError(f"{int(pd.isna(rec).sum())} purchases have no recommended size")
    bought = 1.0 - np.asarray(fit_probabilities(purchases))[:, 1]
    counterfactual = purchases.copy()
    counterfactual[size_col] = rec
    recommended = 1.0 - np.asarray(fit_probabilities(counterfactual))[:, 1]
    b, r = float(bought.mean()), float(recommended.mean())
    return {"bought": b, "recommended": r, "reduction": 1.0 - r / b if b > 0 else 0.0}


def true_size_recovery(estimated_sizes, true_sizes) -> float:
    """Share of customers whose estimated size label equals the true one."""
    est = np.asarray(estimated_sizes, dtype=object).astype(str)
    true = np.asarray(true_sizes, dtype=object).astype(str)
    if len(est) != len(true) or len(est) == 0:
        raise ValueError(f"need equal, non-zero lengths; got {len(est)} and {len(true)}")
    return float((est == true).mean())
