"""Put a simulation into the warehouse: the contract tables through the validator, then the
hidden truth beside them (``truth_*`` tables, which are not part of the contract)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pyarrow as pa

from features.contract.validate import ROW, SOURCE, Staged
from features.io.ingest import LoadReport, load_dataset
from features.io.warehouse import replace_tables, transaction
from features.simulate.simulator import SimulatedData

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


def staged_tables(data: SimulatedData) -> dict[str, Staged]:
    """Each contract table as :class:`Staged`, rows numbered from 1 in table order."""
    out = {}
    for name, table in data.tables.items():
        source = f"simulate(customers={data.customers}, seed={data.seed}):{name}"
        rows = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
        # A short per-row source: DuckDB keeps strings of up to 12 bytes inline.
        expr = ibis.memtable(table.append_column(ROW, rows)).mutate(
            **{SOURCE: ibis.literal("simulate")}
        )
        out[name] = Staged(name, expr, source)
    return out


def load_simulation(
    con: BaseBackend, data: SimulatedData, *, now: dt.datetime, max_quarantine_share: float
) -> LoadReport:
    """Validate and load ``data`` as dataset ``simulate``, then replace the truth tables."""
    report = load_dataset(
        con,
        staged_tables(data),
        dataset="simulate",
        now=now,
        max_quarantine_share=max_quarantine_share,
    )
    with transaction(con):
        replace_tables(con, {k: ibis.memtable(v) for k, v in data.truth.items()})
    return report
