"""The ``predictions`` table: one row per (customer_id, as_of), assembled from the models' outputs.

Pure functions over pandas frames; nothing here reads or writes. The column list and types
are fixed by :data:`PREDICTIONS_SCHEMA`, so an empty day still has a typed, valid table.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from features.config import ActionRule

KEY = "customer_id"
AS_OF = "as_of"
REASONS = ("reason_1", "reason_2", "reason_3")
REASON_FEATURES = tuple(f"{r}_feature" for r in REASONS)

# What each registered model must return (CONTRACTS.md), besides customer_id.
MODEL_OUTPUTS: dict[str, tuple[str, ...]] = {
    "churn": ("p_churn", *REASONS, *REASON_FEATURES),
    "churn_survival": (
        "p_churn_30d",
        "p_churn_60d",
        "p_churn_90d",
        "median_days_to_churn",
        "survival_curve",
    ),
    "clv": ("clv", "clv_p10", "clv_p90", "p_alive", "expected_orders"),
    "size": (
        "recommended_size",
        "p_fit",
        "p_too_small",
        "p_too_large",
        "size_confidence",
        "size_note",
    ),
}
MODEL_ROLES = tuple(MODEL_OUTPUTS)

PREDICTIONS_SCHEMA = pa.schema(
    [
        (KEY, pa.string()),
        (AS_OF, pa.date32()),
        ("p_churn", pa.float64()),
        ("risk_tier", pa.string()),
        ("p_churn_30d", pa.float64()),
        ("p_churn_60d", pa.float64()),
        ("p_churn_90d", pa.float64()),
        ("median_days_to_churn", pa.float64()),
        ("clv", pa.float64()),
        ("clv_p10", pa.float64()),
        ("clv_p90", pa.float64()),
        ("p_alive", pa.float64()),
        ("expected_orders", pa.float64()),
        ("value_at_risk", pa.float64()),
        *((r, pa.string()) for r in REASONS),
        *((r, pa.string()) for r in REASON_FEATURES),
        ("recommended_action", pa.string()),
        ("recommended_size", pa.string()),
        ("size_confidence", pa.float64()),
        ("size_note", pa.string()),
        ("survival_curve", pa.string()),
        *((f"{role}_model", pa.string()) for role in MODEL_ROLES),
        ("run_id", pa.string()),
    ]
)


def risk_tiers(p_churn: pd.Series, tiers: Mapping[str, float]) -> pd.Series:
    """The first tier (highest bound first) whose lower bound ``p_churn`` reaches; null if null."""
    ordered = sorted(tiers.items(), key=lambda kv: -kv[1])
    p = pd.to_numeric(p_churn, errors="coerce").to_numpy(dtype=float)
    out = np.full(len(p), None, dtype=object)
    for name, bound in reversed(ordered):  # lowest first; higher tiers overwrite
        out[p >= bound] = name
    return pd.Series(out, index=p_churn.index, name="risk_tier")


def recommend_actions(
    reason_features: pd.DataFrame, rules: Sequence[ActionRule], default: str
) -> pd.Series:
    """The action of the first reason feature (in reason order) that a rule lists.

    Rules are checked in order for each reason, so reason 1 outranks reason 2 whatever the
    rule order. Fallback rules (``fallback: true``) are checked the same way, but only for
    customers none of whose reasons a regular rule lists; a customer no rule lists gets
    ``default``.
    """
    out = pd.Series(default, index=reason_features.index, dtype=object, name="recommended_action")
    decided = pd.Series(False, index=reason_features.index)
    for fallback in (False, True):
        lookup: dict[str, str] = {}
        for rule in rules:
            if rule.fallback == fallback:
                for feature in rule.features:
                    lookup.setdefault(feature, rule.action)
        for col in reason_features.columns:
            action = reason_features[col].map(lookup)
            take = action.notna() & ~decided
            out[take] = action[take]
            decided |= take
    return out


def model_label(name: str, version: str) -> str:
    """``churn/3``: a registered name and version, as stored on every prediction row."""
    return f"{name}/{version}"


def risk_order(frame: pd.DataFrame) -> np.ndarray:
    """Row positions from the top of the risk list down: value at risk (nulls last), then
    P(churn) (nulls last), then ``customer_id``.

    ``value_at_risk`` is taken from ``frame`` or computed as ``p_churn x clv``.
    """
    p = pd.to_numeric(frame["p_churn"], errors="coerce").astype(float)
    var = (
        pd.to_numeric(frame["value_at_risk"], errors="coerce").astype(float)
        if "value_at_risk" in frame
        else p * pd.to_numeric(frame["clv"], errors="coerce").astype(float)
    )
    keys = pd.DataFrame(
        {
            "var": var.fillna(-np.inf).to_numpy(),
            "p": p.fillna(-np.inf).to_numpy(),
            "id": frame[KEY].astype(str).to_numpy(),
        }
    )
    ordered = keys.sort_values(["var", "p", "id"], ascending=[False, False, True], kind="stable")
    return ordered.index.to_numpy()


def _finite_or_null(s: pd.Series) -> pd.Series:
    v = pd.to_numeric(s, errors="coerce").astype(float)
    return v.where(np.isfinite(v))


def assemble_predictions(
    scored: pd.DataFrame,
    *,
    as_of: dt.date,
    tiers: Mapping[str, float],
    rules: Sequence[ActionRule],
    default_action: str,
    models: Mapping[str, str],
    run_id: str,
) -> pa.Table:
    """The predictions rows from ``scored`` (customer_id + every model's output columns).

    ``value_at_risk`` = ``p_churn`` x ``clv`` (null when either is); a non-finite
    ``median_days_to_churn`` (beyond the survival curve) is stored as null. ``models`` maps
    each role to ``name/version``.
    """
    n = len(scored)
    out = pd.DataFrame({KEY: scored[KEY].astype(str).to_numpy()})
    out[AS_OF] = as_of
    for col in PREDICTIONS_SCHEMA.names:
        if col in (KEY, AS_OF) or col not in scored.columns:
            continue
        if pa.types.is_floating(PREDICTIONS_SCHEMA.field(col).type):
            out[col] = _finite_or_null(scored[col]).to_numpy()
        else:
            values = scored[col].to_numpy(dtype=object)
            out[col] = [None if v is None or v is pd.NA or v != v else str(v) for v in values]
    out["risk_tier"] = risk_tiers(out["p_churn"], tiers).to_numpy()
    out["value_at_risk"] = out["p_churn"] * out["clv"]
    out["recommended_action"] = recommend_actions(
        out[list(REASON_FEATURES)], rules, default_action
    ).to_numpy()
    for role in MODEL_ROLES:
        out[f"{role}_model"] = models[role]
    out["run_id"] = run_id
    for col in PREDICTIONS_SCHEMA.names:
        if col not in out.columns:  # a role's column the caller did not score
            out[col] = None
    if n == 0:
        return PREDICTIONS_SCHEMA.empty_table()
    return pa.Table.from_pandas(
        out[PREDICTIONS_SCHEMA.names], schema=PREDICTIONS_SCHEMA, preserve_index=False
    )


def survival_points(curve: str | None, step_days: int = 15) -> list[tuple[int, float]]:
    """``[(0, 1.0), (15, 0.97), ...]`` from a stored ``survival_curve`` JSON list."""
    if not curve:
        return []
    values = json.loads(curve)
    return [(i * step_days, float(v)) for i, v in enumerate(values) if v is not None]
