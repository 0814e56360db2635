"""Make Ibis 12.0's DuckDB backend work with DuckDB 2.0.

DuckDB 2.0 removed ``fetch_arrow_table`` and ``fetch_record_batch`` from query results
on a connection (they remain on relations), and Ibis 12.0.0 still calls them in
``list_tables``, ``con.sql(...)`` and ``to_pyarrow_batches``. Upstream fixed this after
12.0.0 (ibis-project/ibis#12001, "switch deprecated .fetch_arrow_table() to
.to_arrow_table()"). Until a release carries the fix, :func:`apply` wraps the backend's
raw results so those two calls map onto their DuckDB 2.0 names. It does nothing on a
DuckDB that still has them, and it is applied on first connection, never at import.

DuckDB 2.0 also refuses the ``x -> expr`` lambda syntax that sqlglot (pinned to Ibis
12.0's era) still writes; :func:`configure` re-enables it on each connection.
"""

from __future__ import annotations

import warnings
from typing import Any

import duckdb

_APPLIED = False


class _Result:
    """A DuckDB connection after ``execute``, with the pre-2.0 fetch names restored."""

    __slots__ = ("_cur",)

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self._cur = cur

    def fetch_arrow_table(self) -> Any:
        with warnings.catch_warnings():
            # Ibis only fetches small results (schemas, catalog listings) this way.
            warnings.simplefilter("ignore", UserWarning)
            return self._cur.to_arrow_table()

    def fetch_record_batch(self, rows_per_batch: int = 1_000_000) -> Any:
        return self._cur.to_arrow_reader(rows_per_batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


def configure(con: object) -> None:
    """Per-connection settings an Ibis DuckDB backend needs on DuckDB 2.0."""
    raw = con.con  # type: ignore[attr-defined]
    try:
        raw.execute("SET lambda_syntax = 'ENABLE_SINGLE_ARROW'")
    except duckdb.Error:  # a DuckDB without the setting accepts the arrow syntax anyway
        pass


def needed() -> bool:
    return not hasattr(duckdb.DuckDBPyConnection, "fetch_arrow_table")


def apply() -> None:
    """Patch the Ibis DuckDB backend once, if this DuckDB needs it."""
    global _APPLIED
    if _APPLIED or not needed():
        return
    import sqlglot as sg
    import sqlglot.expressions as sge
    from ibis.backends.duckdb import Backend

    original_raw_sql = Backend.raw_sql

    def raw_sql(self: Backend, query: Any, **kwargs: Any) -> Any:
        result = original_raw_sql(self, query, **kwargs)
        return _Result(result) if isinstance(result, duckdb.DuckDBPyConnection) else result

    def list_tables(self: Backend, *, like: str | None = None, database: Any = None) -> list[str]:
        table_loc = self._to_sqlglot_table(database)
        catalog = table_loc.catalog or self.current_catalog
        db = table_loc.db or self.current_database
        col = "table_name"
        sql = (
            sg.select(col)
            .from_(sg.table("tables", db="information_schema"))
            .distinct()
            .where(
                sg.column("table_catalog").isin(sge.convert(catalog), sge.convert("temp")),
                sg.column("table_schema").eq(sge.convert(db)),
            )
            .sql(self.dialect)
        )
        out = self.con.sql(sql).to_arrow_table()
        return self._filter_with_like(out[col].to_pylist(), like)

    Backend.raw_sql = raw_sql  # type: ignore[method-assign]
    Backend.list_tables = list_tables  # type: ignore[method-assign]
    _APPLIED = True
