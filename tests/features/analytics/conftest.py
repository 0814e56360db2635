"""Canonical tables from literal rows, in the contract's schema, inside the ``con`` warehouse."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from features.contract.schema import TABLES

T0 = dt.datetime(2024, 1, 1)


def _value(v, dtype: str):
    if dtype == "timestamp" and isinstance(v, str):
        return dt.datetime.fromisoformat(v)
    return v


@pytest.fixture
def canonical(con):
    """``canonical(table, rows)``: a warehouse table with the contract's columns.

    Columns a row leaves out are null, as an adapter leaves optional columns.
    """

    def make(name: str, rows: list[dict]):
        schema = TABLES[name].ibis_schema()
        typed = [{c: _value(r.get(c), str(t)) for c, t in schema.items()} for r in rows]
        data = pa.Table.from_pylist(typed, schema=schema.to_pyarrow())
        return con.create_table(name, ibis.memtable(data), overwrite=True)

    return make


@pytest.fixture
def page_events(canonical):
    """``page_events({customer: [[pages of session 1], [pages of session 2], ...]})``.

    Sessions are named ``<customer>-s<k>`` and start an hour apart in the order given;
    pages within a session are a minute apart with seq 1, 2, ...
    """

    def make(journeys: dict[str, list[list[str | None]]]):
        rows = []
        for customer, sessions in journeys.items():
            for k, pages in enumerate(sessions):
                start = T0 + dt.timedelta(hours=k)
                for i, page in enumerate(pages):
                    rows.append(
                        {
                            "session_id": f"{customer}-s{k}",
                            "seq": i + 1,
                            "customer_id": customer,
                            "ts": start + dt.timedelta(minutes=i),
                            "event_type": "page_view",
                            "page": page,
                        }
                    )
        return canonical("events", rows)

    return make
