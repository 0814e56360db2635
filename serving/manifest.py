"""The ``scoring_runs`` manifest: one row per scoring run, in the warehouse.

A run is recorded as ``running`` (committed) before any work, and becomes ``succeeded``
in the same transaction that writes its predictions, or ``failed`` with the error. A
process killed mid-run cannot say so itself: its row stays ``running`` until the next
run, which holds the scoring lock and therefore knows no other run is alive, marks it
``failed`` (:func:`abandon_running`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import ibis
import pandas as pd
import pyarrow as pa

from features.io.warehouse import replace_rows, transaction

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

RUNS_TABLE = "scoring_runs"
RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
INTERRUPTED = "interrupted: the process ended before the run finished (killed or crashed)"

RUNS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("as_of", pa.date32()),
        ("status", pa.string()),
        ("started_at", pa.timestamp("us")),
        ("finished_at", pa.timestamp("us")),
        ("models", pa.string()),  # JSON: role -> name/version
        ("rows_in", pa.int64()),  # customers in the feature snapshot
        ("rows_scored", pa.int64()),  # active customers scored
        ("rows_out", pa.int64()),  # prediction rows written for the date
        ("feature_digest", pa.string()),
        ("stage_seconds", pa.string()),  # JSON: stage -> seconds
        ("target", pa.string()),  # where predictions went (password redacted)
        ("warnings", pa.string()),  # JSON list
        ("drift_flagged", pa.bool_()),
        ("error", pa.string()),
    ]
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class RunRecord:
    """What one run did; stored as one ``scoring_runs`` row."""

    as_of: dt.date
    target: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: str = RUNNING
    started_at: dt.datetime = field(default_factory=_now)
    finished_at: dt.datetime | None = None
    models: dict[str, str] = field(default_factory=dict)
    rows_in: int | None = None
    rows_scored: int | None = None
    rows_out: int | None = None
    feature_digest: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    drift_flagged: bool = False
    error: str | None = None

    def to_arrow(self) -> pa.Table:
        row = asdict(self)
        row["models"] = json.dumps(self.models, sort_keys=True)
        row["stage_seconds"] = json.dumps({k: round(v, 3) for k, v in self.stage_seconds.items()})
        row["warnings"] = json.dumps(self.warnings)
        return pa.Table.from_pylist([row], schema=RUNS_SCHEMA)


def record(con: BaseBackend, run: RunRecord) -> None:
    """Insert or replace ``run``'s row; callers may wrap this in a larger transaction."""
    replace_rows(con, RUNS_TABLE, ibis.memtable(run.to_arrow()), where={"run_id": run.run_id})


def start(con: BaseBackend, run: RunRecord) -> None:
    """Record ``run`` as running, committed, so a crash leaves a trace."""
    with transaction(con):
        record(con, run)


def finish(con: BaseBackend, run: RunRecord, *, status: str, error: str | None = None) -> None:
    """Set the final status (within the caller's transaction, if any)."""
    run.status, run.error, run.finished_at = status, error, _now()
    record(con, run)


def runs(con: BaseBackend) -> pd.DataFrame:
    """Every recorded run, oldest first (an empty typed frame before the first run)."""
    if RUNS_TABLE not in con.list_tables():
        return RUNS_SCHEMA.empty_table().to_pandas()
    t = con.table(RUNS_TABLE)
    return t.order_by(["started_at", "run_id"]).to_pyarrow().to_pandas()


def abandon_running(con: BaseBackend) -> list[str]:
    """Mark runs left ``running`` by a dead process as failed; return their ids.

    Call only while holding the scoring lock: then no other run can be alive.
    """
    stale = runs(con)
    stale = stale[stale.status == RUNNING]
    if stale.empty:
        return []
    with transaction(con):
        for row in stale.itertuples(index=False):
            run = RunRecord(
                as_of=row.as_of,
                target=row.target,
                run_id=row.run_id,
                started_at=row.started_at.to_pydatetime(),
                models=json.loads(row.models or "{}"),
                stage_seconds=json.loads(row.stage_seconds or "{}"),
                warnings=json.loads(row.warnings or "[]"),
            )
            finish(con, run, status=FAILED, error=INTERRUPTED)
    return list(stale.run_id)


def last_succeeded(con: BaseBackend) -> dt.date | None:
    """The latest as_of date with a succeeded run, or None."""
    done = runs(con)
    done = done[done.status == SUCCEEDED]
    return None if done.empty else max(done.as_of)
