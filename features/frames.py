"""Training frames: feature snapshots at several cutoffs, joined to their labels, as pandas.

Each snapshot uses events before its cutoff for features and ``[cutoff, cutoff +
horizon)`` for labels, so stacking cutoffs never leaks. The key is
``(customer_id, cutoff)``. Frames come back with model-ready dtypes: float64 numbers,
pandas ``category`` for categorical features, numpy int64 labels, ``datetime64[ns]``
cutoffs and no pandas nullable dtypes (MLflow drops a model signature on those).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.builders import build_features, categorical_features
from features.builders._common import KEY, as_cutoff
from features.config import Params
from features.errors import EmptyResultError, JourneyError, unknown_name_message
from features.labels import (
    make_churn_labels,
    make_revenue_labels,
    make_time_to_churn_labels,
    observation_end,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

CUTOFF = "cutoff"
LABELS = {
    "churn": ("churned",),
    "time_to_churn": ("duration_days", "event"),
    "revenue": ("future_revenue", "future_orders"),
}
INT_LABELS = {"churned", "event", "future_orders"}


def make_labels(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime | dt.date,
    *,
    params: Params,
    label: str,
    observed_until: dt.datetime,
) -> ir.Table:
    """The ``label`` table at ``cutoff`` with the settings in ``params.labels``."""
    p = params.labels
    if label == "churn":
        return make_churn_labels(
            tables,
            cutoff,
            definition=p.churn,
            horizon_days=p.horizon_days,
            lapse_grace_days=p.lapse_grace_days,
            observed_until=observed_until,
        )
    if label == "time_to_churn":
        return make_time_to_churn_labels(
            tables,
            cutoff,
            definition=p.churn,
            max_days=p.survival_max_days,
            lapse_grace_days=p.lapse_grace_days,
            observed_until=observed_until,
        )
    if label == "revenue":
        return make_revenue_labels(
            tables, cutoff, horizon_days=p.horizon_days, observed_until=observed_until
        )
    raise JourneyError(unknown_name_message("label", label, LABELS))


def to_model_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with model-ready dtypes (see the module docstring).

    Categorical features become ``category`` with sorted categories; every other feature
    becomes float64 (nulls as NaN); integer labels become int64 and must hold no nulls.
    """
    out = df.copy()
    categorical = set(categorical_features())
    for col in out.columns:
        s = out[col]
        if col == KEY:
            out[col] = s.astype(str).astype(object)
        elif col == CUTOFF:
            out[col] = pd.to_datetime(s).astype("datetime64[ns]")
        elif col in categorical:
            values = s.astype(object).where(s.notna(), None)
            cats = sorted({v for v in values if v is not None})
            out[col] = pd.Categorical(values, categories=cats)
        elif col in INT_LABELS:
            if s.isna().any():
                raise JourneyError(f"label column {col!r} has {int(s.isna().sum())} nulls")
            out[col] = s.astype(np.int64)
        else:
            out[col] = pd.to_numeric(s, errors="raise").astype(np.float64)
    return out


def build_training_frame(
    tables: Mapping[str, ir.Table],
    cutoffs: Iterable[dt.datetime | dt.date],
    *,
    params: Params,
    label: str = "churn",
    observed_until: dt.datetime | None = None,
) -> pd.DataFrame:
    """Stack feature snapshots at ``cutoffs`` with their ``label`` columns.

    One row per ``(customer_id, cutoff)`` in the label's population at that cutoff (see
    ``features.labels``), sorted by cutoff then customer. Features use events before
    each cutoff only; labels use the horizon after it. ``observed_until`` (exclusive end
    of the data) defaults to ``params.labels.observed_until`` or else to
    :func:`features.labels.observation_end`; a label window past it is an error.

    ``label`` is one of ``churn`` (``churned``), ``time_to_churn`` (``duration_days``,
    ``event``) or ``revenue`` (``future_revenue``, ``future_orders``).
    """
    if label not in LABELS:
        raise JourneyError(unknown_name_message("label", label, LABELS))
    points = sorted({as_cutoff(c) for c in cutoffs})
    if not points:
        raise JourneyError("no cutoffs given: pass at least one date")
    until = observed_until or params.labels.observed_until or observation_end(tables)
    until = as_cutoff(until)
    frames = []
    for cutoff in points:
        feats = build_features(tables, cutoff, params=params)
        labels = make_labels(tables, cutoff, params=params, label=label, observed_until=until)
        snapshot = feats.join(labels, KEY).order_by(KEY).to_pandas()
        snapshot.insert(1, CUTOFF, pd.Timestamp(cutoff))
        frames.append(snapshot)
    frame = pd.concat(frames, ignore_index=True)
    if frame.empty:
        raise EmptyResultError(
            f"no customers at risk at any cutoff ({', '.join(f'{c:%Y-%m-%d}' for c in points)}) "
            f"for label {label!r}"
        )
    return to_model_frame(frame)
