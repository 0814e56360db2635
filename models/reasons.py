"""Reason codes: per-row feature contributions turned into plain-language sentences.

Pure and vectorized: the top-k choice is k passes of ``argmax`` over the contribution
matrix, and each (rank, feature) pair formats only the distinct values it meets, so a
million rows take seconds, not minutes.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

import numpy as np
import pandas as pd

BIAS_COLUMN = "bias"
"""Name of the expected-value column in contribution frames; never a reason."""

_WINDOW = re.compile(r"_(\d+)d$")


def top_reasons(
    contributions: pd.DataFrame,
    values: pd.DataFrame,
    templates: Mapping[str, str] | None = None,
    *,
    k: int = 3,
) -> pd.DataFrame:
    """The ``k`` features that push each row's churn score up the most, as sentences.

    Parameters
    ----------
    contributions : DataFrame, rows x features
        Per-row contributions to the churn score (e.g. SHAP log-odds from
        ``ChurnClassifier.predict_contributions``); a ``"bias"`` column is ignored.
    values : DataFrame
        The feature values of the same rows (same index), with every contribution column.
    templates : mapping of feature name to ``str.format`` template, optional
        Rendered with ``value`` (the row's value) and ``feature`` (its name), e.g.
        ``{"days_since_last_visit": "no visit in {value:.0f} days"}``. Keys that are not
        contribution columns are ignored, so one mapping can serve several models.

    Returns
    -------
    DataFrame indexed like ``contributions`` with columns ``reason_1 .. reason_k`` (the
    sentences, strongest first) and ``reason_1_feature .. reason_k_feature`` (the feature
    names). Only strictly positive contributions are reasons; a row with fewer than ``k``
    has None in the remaining slots. Equal contributions rank in column order.

    A feature without a template reads ``"<name, readable>: <value>"``, e.g.
    ``spend_90d`` = 120.5 reads ``"spend (last 90 days): 120.5"``. A missing value reads
    ``"<name, readable>: unknown"`` whatever the template, since a template written for a
    number cannot say anything true about a missing one.
    """
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    if not isinstance(contributions, pd.DataFrame) or not isinstance(values, pd.DataFrame):
        raise TypeError("contributions and values must be pandas DataFrames")
    features = [c for c in contributions.columns if c != BIAS_COLUMN]
    missing = [f for f in features if f not in values.columns]
    if missing:
        raise ValueError(
            f"values lacks {len(missing)} contribution column(s): {missing[:10]}; "
            f"it has: {list(values.columns)[:20]}"
        )
    if not values.index.equals(contributions.index):
        raise ValueError(
            "values and contributions must describe the same rows in the same order "
            f"(same index); got {len(values)} and {len(contributions)} rows"
        )
    templates = dict(templates or {})
    for feature in features:
        if feature in templates:
            _check_template(feature, templates[feature])

    n = len(contributions)
    out = {f"reason_{r}": np.full(n, None, dtype=object) for r in range(1, k + 1)}
    chosen = {f"reason_{r}_feature": np.full(n, None, dtype=object) for r in range(1, k + 1)}
    if not features:
        return pd.DataFrame({**out, **chosen}, index=contributions.index)
    scores = contributions[features].to_numpy(dtype=np.float64, copy=True)
    scores[~(scores > 0)] = -np.inf  # also drops NaN
    rows = np.arange(n)
    column_values: dict[int, np.ndarray] = {}
    for rank in range(1, k + 1):
        pick = np.argmax(scores, axis=1)  # first maximum: ties go to the earlier column
        has = scores[rows, pick] > -np.inf
        scores[rows, pick] = -np.inf
        for j in np.unique(pick[has]):
            at = np.flatnonzero(has & (pick == j))
            if j not in column_values:
                column_values[j] = values[features[j]].to_numpy()
            out[f"reason_{rank}"][at] = _render(
                features[j], column_values[j][at], templates.get(features[j])
            )
            chosen[f"reason_{rank}_feature"][at] = features[j]
    return pd.DataFrame({**out, **chosen}, index=contributions.index)


def readable_name(feature: str) -> str:
    """``"fit_returns_90d"`` -> ``"fit returns (last 90 days)"``."""
    text = _WINDOW.sub(lambda m: f" (last {m.group(1)} days)", feature)
    return text.replace("_", " ").strip()


def format_value(value) -> str:
    """A value as a person would write it: 3, 1,250, 0.25, yes, web."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        if float(value).is_integer():
            return f"{value:,.0f}"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def _render(feature: str, values: np.ndarray, template: str | None) -> np.ndarray:
    """Sentences for one feature's values; each distinct value is formatted once.

    Floats are rounded to 9 decimals first: engines that sum in another order (Spark,
    DuckDB) agree to the last bits only, and 155.49999999999997 would read "155" where
    155.5 reads "156".
    """
    if values.dtype.kind == "f":
        values = np.round(values, 9)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    name = readable_name(feature)
    texts = []
    for value in uniques:
        if template is None:
            texts.append(f"{name}: {format_value(value)}")
            continue
        try:
            texts.append(template.format(value=value, feature=feature))
        except (ValueError, TypeError, KeyError, IndexError) as err:
            raise ValueError(
                f"reason template for {feature!r} ({template!r}) cannot format the value "
                f"{value.item() if isinstance(value, np.generic) else value!r}: {err}"
            ) from None
    rendered = np.array([*texts, f"{name}: unknown"], dtype=object)
    return rendered[codes]  # code -1 (missing) picks the last entry


def _check_template(feature: str, template: str) -> None:
    if not isinstance(template, str):
        raise TypeError(f"reason template for {feature!r} must be a string; got {template!r}")
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as err:
        raise ValueError(
            f"reason template for {feature!r} is malformed: {template!r} ({err})"
        ) from None
    unknown = {f.split(".")[0].split("[")[0] for f in fields} - {"value", "feature"}
    if unknown:
        raise ValueError(
            f"reason template for {feature!r} uses {sorted(unknown)}; "
            f"valid placeholders: value, feature ({template!r})"
        )
