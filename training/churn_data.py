"""The frames every churn step uses: stacked train snapshots and the test snapshot.

Each row is a ``(customer_id, cutoff)`` snapshot with features from events before the
cutoff, the binary label ``churned`` over ``[cutoff, cutoff + horizon_days)`` and the
survival label (``duration_days``, ``event``; see ``features.labels``). Train survival
labels are censored at the test cutoff, so no train label looks into the test window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.builders._common import KEY
from features.config import Params
from features.errors import JourneyError
from features.frames import CUTOFF, build_training_frame, make_labels
from training.splits import Split, out_of_time_split

if TYPE_CHECKING:
    import datetime as dt

    import ibis.expr.types as ir

LABEL = "churned"
DURATION = "duration_days"
EVENT = "event"
NOT_FEATURES = (KEY, CUTOFF, LABEL, DURATION, EVENT, "as_of")


@dataclass(frozen=True)
class ChurnData:
    split: Split
    train: pd.DataFrame
    test: pd.DataFrame
    features: tuple[str, ...]

    def X(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[list(self.features)]

    def model_input(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``customer_id`` + features, as the registered models take them."""
        return frame[[KEY, *self.features]]


def feature_columns(frame: pd.DataFrame, exclude: Sequence[str] = ()) -> tuple[str, ...]:
    """Feature columns of a training frame: everything but keys, labels and ``exclude``."""
    unknown = [c for c in exclude if c not in frame.columns]
    if unknown:
        raise JourneyError(
            f"churn.exclude_features names unknown column(s) {unknown}; "
            f"features: {[c for c in frame.columns if c not in NOT_FEATURES]}"
        )
    return tuple(c for c in frame.columns if c not in NOT_FEATURES and c not in exclude)


def snapshot_frame(
    tables: Mapping[str, ir.Table],
    cutoffs: Sequence[dt.datetime],
    *,
    params: Params,
    observed_until: dt.datetime,
) -> pd.DataFrame:
    """Feature snapshots at ``cutoffs`` with both churn labels; survival censored at
    ``observed_until``."""
    frame = build_training_frame(tables, cutoffs, params=params, label="churn")
    parts = []
    for cutoff in cutoffs:
        t = make_labels(
            tables, cutoff, params=params, label="time_to_churn", observed_until=observed_until
        ).to_pandas()
        t[CUTOFF] = pd.Timestamp(cutoff)
        parts.append(t)
    times = pd.concat(parts, ignore_index=True)
    times[CUTOFF] = times[CUTOFF].astype("datetime64[ns]")
    times[KEY] = times[KEY].astype(str).astype(object)
    merged = frame.merge(times, on=[KEY, CUTOFF], how="left", validate="one_to_one")
    lost = int(merged[EVENT].isna().sum())
    if lost:
        raise JourneyError(f"{lost} snapshot row(s) have a churn label but no survival label")
    merged[EVENT] = merged[EVENT].astype(np.int64)
    merged[DURATION] = merged[DURATION].astype(np.float64)
    return merged


def as_served(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with categoricals as plain strings, the way the feature table holds them
    (and the registered models' signatures list them)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def sample_per_cutoff(frame: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """At most ``max_rows`` random customers per cutoff (all when None), order kept."""
    if max_rows is None:
        return frame
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(frame), dtype=bool)
    for rows in frame.groupby(CUTOFF, sort=True).indices.values():
        pick = rows if len(rows) <= max_rows else rng.choice(rows, max_rows, replace=False)
        keep[pick] = True
    return frame[keep].reset_index(drop=True)


def load_churn_data(
    tables: Mapping[str, ir.Table],
    params: Params,
    *,
    on_step: Callable[[str], None] | None = None,
) -> ChurnData:
    """Train snapshots at the split's train cutoffs, test snapshot at its test cutoff."""
    step = on_step or (lambda _: None)
    split = out_of_time_split(tables, params)
    step("train features and labels")
    train = snapshot_frame(
        tables, split.train_cutoffs, params=params, observed_until=split.test_cutoff
    )
    train = sample_per_cutoff(train, params.training.max_rows_per_cutoff, params.project.seed)
    step("test features and labels")
    test = snapshot_frame(
        tables, [split.test_cutoff], params=params, observed_until=split.observed_until
    )
    features = feature_columns(train, params.churn.exclude_features)
    return ChurnData(split, train, test, features)
