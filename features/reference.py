"""Reference distributions of features and scores, and the population stability index (PSI).

The churn training run logs :func:`reference_distribution` of its training frame as
``reference/feature_quantiles.json`` beside the model; the nightly scorer compares each
day's features and scores with it (:func:`psi_table`). Pure functions: no I/O.

Format (``version`` 1)::

    {"version": 1, "rows": 1234,
     "numeric": {"recency_days": {"edges": [3.0, 9.0, ...], "shares": [...], "null_share": 0.01,
                                  "mean": 41.2}},
     "categorical": {"plan": {"shares": {"Monthly": 0.2, "(null)": 0.7, ...}}},
     "scores": {"p_churn": {...same as numeric...}}}

``edges`` are the interior bin edges (distinct reference quantiles); bin ``i`` holds
values in ``[edges[i-1], edges[i])``, the first bin everything below ``edges[0]`` and the
last everything from ``edges[-1]`` up. ``shares`` are the reference's shares of non-null
rows per bin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

VERSION = 1
# Where the churn training run logs its reference; the nightly scorer reads it from there.
REFERENCE_ARTIFACT = "reference/feature_quantiles.json"
NULL = "(null)"
# Shares are floored at this before taking logs, so an empty bin gives a large finite PSI.
EPS = 1e-4


def _numeric(values: pd.Series, bins: int) -> dict[str, Any]:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite = v[np.isfinite(v)]
    null_share = 1 - len(finite) / len(v) if len(v) else 0.0
    if not len(finite):
        return {"edges": [], "shares": [1.0], "null_share": null_share, "mean": None}
    qs = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
    edges = sorted(set(float(q) for q in qs))
    shares = _shares(finite, edges)
    return {
        "edges": edges,
        "shares": shares.tolist(),
        "null_share": float(null_share),
        "mean": float(finite.mean()),
    }


def _shares(finite: np.ndarray, edges: list[float]) -> np.ndarray:
    idx = np.searchsorted(np.asarray(edges), finite, side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(float)
    return counts / counts.sum() if counts.sum() else counts


def reference_distribution(
    features: pd.DataFrame,
    scores: Mapping[str, Iterable[float]] | None = None,
    *,
    bins: int = 10,
    categorical: Iterable[str] = (),
) -> dict[str, Any]:
    """The reference (training) distribution of every feature column and of ``scores``.

    ``customer_id`` and ``as_of`` are skipped; ``categorical`` columns (and any non-numeric
    column) get category shares, with nulls as ``"(null)"``.
    """
    categorical = set(categorical)
    out: dict[str, Any] = {
        "version": VERSION,
        "rows": len(features),
        "numeric": {},
        "categorical": {},
        "scores": {},
    }
    for col in features.columns:
        if col in ("customer_id", "as_of"):
            continue
        s = features[col]
        if col in categorical or not (
            pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
        ):
            shares = (
                s.astype(object).where(s.notna(), NULL).astype(str).value_counts(normalize=True)
            )
            out["categorical"][col] = {"shares": {str(k): float(v) for k, v in shares.items()}}
        else:
            out["numeric"][col] = _numeric(s.astype(float), bins)
    for name, values in (scores or {}).items():
        out["scores"][name] = _numeric(pd.Series(np.asarray(values, dtype=float)), bins)
    return out


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index: sum((a - e) * ln(a / e)) over bins, shares floored at EPS."""
    e = np.maximum(np.asarray(expected, dtype=float), EPS)
    a = np.maximum(np.asarray(actual, dtype=float), EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_numeric(reference: Mapping[str, Any], values: pd.Series) -> tuple[float, float | None]:
    """PSI of ``values`` against one numeric reference (null share as its own bin), and the mean."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite = v[np.isfinite(v)]
    n = len(v)
    ref_null = float(reference.get("null_share", 0.0))
    expected = np.append(np.asarray(reference["shares"], dtype=float) * (1 - ref_null), ref_null)
    if n == 0:
        return float("nan"), None
    actual = np.append(
        _shares(finite, list(reference["edges"])) * len(finite) / n, 1 - len(finite) / n
    )
    return psi(expected, actual), (float(finite.mean()) if len(finite) else None)


def psi_categorical(reference: Mapping[str, Any], values: pd.Series) -> float:
    """PSI of category shares; a category unseen in the reference counts against EPS."""
    if len(values) == 0:
        return float("nan")
    s = values.astype(object).where(values.notna(), NULL).astype(str)
    now = s.value_counts(normalize=True)
    ref = dict(reference["shares"])
    cats = sorted(set(ref) | set(now.index))
    return psi(
        np.array([ref.get(c, 0.0) for c in cats]), now.reindex(cats, fill_value=0.0).to_numpy()
    )


def psi_table(
    reference: Mapping[str, Any],
    features: pd.DataFrame,
    scores: Mapping[str, pd.Series],
) -> pd.DataFrame:
    """``name, kind (feature|score), psi, reference_mean, current_mean`` per shared column.

    Columns in the reference but absent now get PSI null (the caller reports them).
    """
    rows = []
    for name, ref in reference.get("numeric", {}).items():
        if name in features.columns:
            value, mean = psi_numeric(ref, features[name])
        else:
            value, mean = float("nan"), None
        rows.append((name, "feature", value, ref.get("mean"), mean))
    for name, ref in reference.get("categorical", {}).items():
        value = psi_categorical(ref, features[name]) if name in features.columns else float("nan")
        rows.append((name, "feature", value, None, None))
    for name, ref in reference.get("scores", {}).items():
        if name in scores:
            value, mean = psi_numeric(ref, scores[name])
            rows.append((name, "score", value, ref.get("mean"), mean))
    return pd.DataFrame(rows, columns=["name", "kind", "psi", "reference_mean", "current_mean"])
