"""Drift monitoring: each run's features and scores against the churn champion's training data.

Rows go to the warehouse table ``drift`` (one per run, feature or score), written in the
same transaction as the run's predictions. A key feature (``serving.drift.key_features``)
or a score whose PSI exceeds ``psi_threshold`` flags the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
import pyarrow as pa

from features.config import DriftParams
from features.io.warehouse import replace_rows
from features.reference import REFERENCE_ARTIFACT, psi_table

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

DRIFT_TABLE = "drift"
DRIFT_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("as_of", pa.date32()),
        ("name", pa.string()),
        ("kind", pa.string()),  # feature | score
        ("psi", pa.float64()),
        ("reference_mean", pa.float64()),
        ("current_mean", pa.float64()),
        ("key", pa.bool_()),
        ("flagged", pa.bool_()),
    ]
)


@dataclass
class DriftResult:
    rows: pa.Table
    flagged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def measure_drift(
    reference: Mapping[str, Any] | None,
    features: pd.DataFrame,
    scores: Mapping[str, pd.Series],
    *,
    params: DriftParams,
    run_id: str,
    as_of: dt.date,
    model: str,
) -> DriftResult:
    """PSI per feature and score against ``reference``; flags key features and scores over the threshold."""
    if reference is None:
        return DriftResult(
            DRIFT_SCHEMA.empty_table(),
            warnings=[
                f"drift not measured: {model} has no {REFERENCE_ARTIFACT} logged with it "
                "(the churn training run should log its training distribution)"
            ],
        )
    if features.empty:
        return DriftResult(DRIFT_SCHEMA.empty_table(), warnings=["drift not measured: no rows"])
    table = psi_table(reference, features, scores)
    key = set(params.key_features)
    table["key"] = table.name.isin(key) | (table.kind == "score")
    table["flagged"] = table.key & (table.psi > params.psi_threshold)
    warnings = []
    gone = table[table.psi.isna()].name.tolist()
    if gone:
        warnings.append(f"drift: {len(gone)} reference column(s) absent today: {', '.join(gone)}")
    missing_keys = sorted(key - set(table.name))
    if missing_keys:
        warnings.append(f"drift: key feature(s) not in the reference: {', '.join(missing_keys)}")
    flagged = [f"{r.name} (PSI {r.psi:.3f})" for r in table[table.flagged].itertuples(index=False)]
    if flagged:
        warnings.append(f"drift: PSI above {params.psi_threshold:g} on " + ", ".join(flagged))
    table.insert(0, "as_of", as_of)
    table.insert(0, "run_id", run_id)
    rows = pa.Table.from_pandas(
        table[DRIFT_SCHEMA.names], schema=DRIFT_SCHEMA, preserve_index=False
    )
    return DriftResult(rows, flagged, warnings)


def write_drift(con: BaseBackend, result: DriftResult, *, as_of: dt.date) -> None:
    """Replace ``as_of``'s drift rows (call inside the run's transaction)."""
    replace_rows(con, DRIFT_TABLE, ibis.memtable(result.rows), where={"as_of": as_of})


def drift_history(con: BaseBackend) -> pd.DataFrame:
    """Every stored drift row, by date (an empty typed frame before the first)."""
    if DRIFT_TABLE not in con.list_tables():
        return DRIFT_SCHEMA.empty_table().to_pandas()
    return con.table(DRIFT_TABLE).order_by(["as_of", "name"]).to_pyarrow().to_pandas()
