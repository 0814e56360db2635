"""The warehouse table ``features``: one snapshot per as-of date, keyed by (customer_id, as_of).

Writing a date builds the full feature table from the canonical tables in the same
warehouse (the query runs inside the engine; nothing passes through pandas) and
replaces that date's rows in one transaction. Re-running a date gives the same rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from features.builders import build_features, categorical_features
from features.builders._common import KEY
from features.config import Params
from features.errors import EmptyResultError, JourneyError
from features.io.warehouse import canonical_tables, replace_rows, transaction

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

FEATURES_TABLE = "features"
AS_OF = "as_of"
# Shown as distributions in the summary when present.
HEADLINE = (
    "tenure_days",
    "recency_days",
    "orders_365d",
    "spend_365d",
    "sessions_30d",
    "days_since_last_visit",
    "return_rate",
    "member_days",
)
# Days since signup, the last order and the last visit: a customer is active when any is
# within ``serving.active_within_days``.
ACTIVITY_DAYS = ("tenure_days", "recency_days", "days_since_last_visit")


def feature_snapshot(tables: dict[str, ir.Table], as_of: dt.date, *, params: Params) -> ir.Table:
    """``customer_id, as_of`` and every feature at midnight of ``as_of``."""
    table = build_features(tables, as_of, params=params)
    return table.select(KEY, ibis.literal(as_of, type="date").name(AS_OF), *table.columns[1:])


def write_features(con: BaseBackend, as_of: dt.date, *, params: Params) -> int:
    """Build the features as of ``as_of`` and replace that date's rows; returns the row count.

    Uses events before midnight of ``as_of`` only. Fails (writing nothing) when nobody
    had signed up by then.
    """
    snapshot = feature_snapshot(canonical_tables(con), as_of, params=params)
    with transaction(con):
        replace_rows(con, FEATURES_TABLE, snapshot, where={AS_OF: as_of})
        stored = con.table(FEATURES_TABLE)
        rows = int(stored.filter(stored[AS_OF] == as_of).count().to_pyarrow().as_py())
        if rows == 0:
            raise EmptyResultError(
                f"no customers had signed up before {as_of:%Y-%m-%d}: nothing to build features for"
            )
    return rows


def active_mask(features: pd.DataFrame, within_days: int | None) -> np.ndarray:
    """Customers who signed up, ordered or visited within ``within_days`` of the cutoff."""
    if within_days is None:
        return np.ones(len(features), dtype=bool)
    missing = [c for c in ACTIVITY_DAYS if c not in features.columns]
    if missing:
        raise JourneyError(
            f"serving.active_within_days needs the features {', '.join(missing)}; set it to "
            "null to score everyone who signed up"
        )
    days = features[list(ACTIVITY_DAYS)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    return np.nan_to_num(days, nan=np.inf).min(axis=1) <= within_days


@dataclass
class FeatureSummary:
    """What one stored snapshot looks like: size, null shares and a few distributions."""

    as_of: dt.date
    rows: int
    columns: int
    null_shares: pd.Series  # feature -> share of null rows, largest first
    distributions: pd.DataFrame  # headline features x (mean, p10, p50, p90)
    categories: dict[str, pd.Series] = field(default_factory=dict)  # top values by share


def summarize_features(con: BaseBackend, as_of: dt.date, *, top: int = 5) -> FeatureSummary:
    """Summarize the stored snapshot for ``as_of`` (one aggregate query per part)."""
    if FEATURES_TABLE not in con.list_tables():
        raise JourneyError("no features stored yet: run `journey features --as-of DATE` first")
    t = con.table(FEATURES_TABLE)
    t = t.filter(t[AS_OF] == as_of)
    feats = [c for c in t.columns if c not in (KEY, AS_OF)]
    counts = t.aggregate(__rows=t.count(), **{c: t[c].isnull().sum() for c in feats}).to_pandas()
    rows = int(counts.pop("__rows").iloc[0])
    if rows == 0:
        raise JourneyError(f"no features stored for {as_of:%Y-%m-%d}")
    nulls = (counts.iloc[0].astype(float) / rows).sort_values(ascending=False, kind="stable")
    headline = [c for c in HEADLINE if c in feats]
    stats = t.aggregate(
        **{
            f"{c}__{name}": fn(t[c])
            for c in headline
            for name, fn in (
                ("mean", lambda v: v.mean()),
                ("p10", lambda v: v.quantile(0.1)),
                ("p50", lambda v: v.quantile(0.5)),
                ("p90", lambda v: v.quantile(0.9)),
            )
        }
    ).to_pandas()
    dist = pd.DataFrame(
        {
            name: [float(stats[f"{c}__{name}"].iloc[0]) for c in headline]
            for name in ("mean", "p10", "p50", "p90")
        },
        index=headline,
    )
    cats = {}
    for c in (c for c in categorical_features() if c in feats):
        vc = t.group_by(c).aggregate(n=t.count()).order_by([ibis.desc("n"), c]).limit(top)
        vc = vc.to_pandas()
        cats[c] = pd.Series(vc.n.to_numpy() / rows, index=vc[c].to_numpy(), name=c)
    return FeatureSummary(as_of, rows, len(feats), nulls, dist, cats)
