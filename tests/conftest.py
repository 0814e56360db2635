"""Shared fixtures. Tests mirror the package tree; expensive fixtures are session-scoped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from features.contract import Staged
from features.contract.schema import TABLES
from features.io.warehouse import connect

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
NOW = dt.datetime(2026, 1, 1)


@pytest.fixture(autouse=True)
def own_tracking_store(monkeypatch):
    """Each test resolves its MLflow store from its own params.

    ``mlflow.set_tracking_uri`` exports ``MLFLOW_TRACKING_URI``, which params prefer over
    ``mlflow.tracking_uri``: without this, a store set up by an earlier test leaks into the
    next one (registering ``v2`` where the test expects ``v1``).
    """
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA} (clone beside ../shared to run)")
    return SHARED_DATA


@pytest.fixture
def con():
    """An empty in-memory warehouse."""
    return connect("duckdb:///:memory:")


@pytest.fixture
def stage():
    """Build a :class:`Staged` table from literal rows, numbered from 1 like file rows."""

    def make(table: str, rows: list[dict], source: str = "test.csv") -> Staged:
        df = pd.DataFrame(rows)
        df["_row"] = range(1, len(df) + 1)
        df["_source"] = source
        return Staged(table, ibis.memtable(df), source)

    return make


EVENTS_T0 = dt.datetime(2024, 1, 1)


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
                start = EVENTS_T0 + dt.timedelta(hours=k)
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


@pytest.fixture(scope="session")
def real_dataset():
    """``real_dataset(adapter, path)`` -> ``(load report, canonical tables)``.

    Loads a real dataset through its built-in adapter into its own in-memory warehouse,
    once per test session. Tests take the path from ``shared_data``, so they skip when the
    data are absent.
    """
    from features.config import load_params
    from features.io.adapters import stage_adapter
    from features.io.ingest import load_dataset
    from features.io.warehouse import canonical_tables

    params = load_params(ROOT / "params.yaml", env={})
    loaded: dict[str, tuple] = {}

    def get(adapter: str, path: Path):
        if adapter not in loaded:
            con = connect("duckdb:///:memory:")
            dataset = stage_adapter(con, adapter, path, params)
            report = load_dataset(
                con,
                dataset.staged,
                dataset=adapter,
                now=NOW,
                max_quarantine_share=params.validation.max_quarantine_share,
                future_skew_hours=params.validation.future_skew_hours,
            )
            assert report.reconciles
            loaded[adapter] = (report, canonical_tables(con))
        return loaded[adapter]

    return get


# Values that literal rows may leave out, so tests spell only what they are about.
ROW_DEFAULTS: dict[str, dict[str, object]] = {
    "orders": {"is_refund": False, "revenue": 10.0},
    "order_lines": {"product_id": "p", "price": 10.0, "quantity": 1},
    "returns": {"quantity": 1},
    "events": {"event_type": "page_view"},
    "subscriptions": {"plan": "Monthly"},
}


def literal_tables(**rows: list[dict]) -> dict[str, ibis.Table]:
    """Every canonical table as an Ibis memtable with the contract's schema.

    Tables not given are empty; columns not given are null (or their ``ROW_DEFAULTS``).
    """
    unknown = set(rows) - set(TABLES)
    if unknown:
        raise KeyError(f"unknown tables {sorted(unknown)}; valid: {sorted(TABLES)}")
    out = {}
    for name, table in TABLES.items():
        schema = table.ibis_schema().to_pyarrow()
        data = [{**ROW_DEFAULTS.get(name, {}), **r} for r in rows.get(name, [])]
        out[name] = ibis.memtable(pa.Table.from_pylist(data, schema=schema))
    return out


@pytest.fixture
def make_tables():
    """Canonical Ibis tables from literal rows: ``make_tables(customers=[...], ...)``."""
    return literal_tables


@pytest.fixture
def run(con):
    """Execute an expression in the test warehouse; indexed by ``key`` and sorted."""

    def execute(expr, key: str | None = "customer_id") -> pd.DataFrame:
        df = con.execute(expr)
        return df.sort_values(key).set_index(key) if key else df

    return execute
