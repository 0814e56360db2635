"""Load a dataset into the warehouse: validate, quarantine, reconcile, replace atomically."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis

from features.contract.schema import TABLES
from features.contract.validate import Staged, TableReport, validate
from features.errors import ContractError
from features.io.warehouse import empty_table, replace_tables, transaction

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

LOAD_RUNS = "load_runs"


@dataclass
class LoadReport:
    """What one load read, accepted and quarantined, per table."""

    load_id: str
    dataset: str
    reports: dict[str, TableReport]

    @property
    def reconciles(self) -> bool:
        return all(r.reconciles for r in self.reports.values())

    def rows(self) -> list[dict[str, object]]:
        return [
            {"table": r.table, "read": r.read, "accepted": r.accepted, "quarantined": r.quarantined}
            for r in self.reports.values()
        ]


def _refuse_if_mostly_bad(reports: dict[str, TableReport], max_share: float) -> None:
    for r in reports.values():
        if r.read and r.quarantined / r.read > max_share:
            top = "; ".join(f"{n} x {reason}" for reason, n in r.reasons.most_common(3))
            raise ContractError(
                f"{r.quarantined:,} of {r.read:,} {r.table} rows fail the contract "
                f"(more than validation.max_quarantine_share={max_share:.0%}), which usually "
                f"means a wrong column mapping. Nothing was loaded. Most common: {top}"
            )


def load_dataset(
    con: BaseBackend,
    staged: dict[str, Staged],
    *,
    dataset: str,
    now: dt.datetime,
    max_quarantine_share: float,
    future_skew_hours: float = 0.0,
) -> LoadReport:
    """Validate ``staged`` and replace the warehouse's dataset with what is accepted.

    A load replaces every canonical table: tables the dataset does not have are emptied,
    so the warehouse never mixes two datasets. The ``quarantine`` table is replaced with
    this load's rejected rows, and a row is appended to ``load_runs``. Either all of it is
    written or, on any error, none of it. Timestamps later than ``now`` plus
    ``future_skew_hours`` are quarantined as in the future.
    """
    load_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    future = now + dt.timedelta(hours=future_skew_hours)
    result = validate(con, staged, now=future, load_id=load_id)
    _refuse_if_mostly_bad(result.reports, max_quarantine_share)
    tables = {name: result.accepted.get(name, empty_table(name)) for name in TABLES}
    run = ibis.memtable(
        {
            "load_id": [load_id],
            "dataset": [dataset],
            "loaded_at": [now],
            "report": [json.dumps(LoadReport(load_id, dataset, result.reports).rows())],
        }
    )
    with transaction(con):
        replace_tables(con, {**tables, "quarantine": result.quarantine})
        if LOAD_RUNS not in con.list_tables():
            con.create_table(LOAD_RUNS, schema=run.schema())
        con.insert(LOAD_RUNS, run)
    return LoadReport(load_id, dataset, result.reports)
