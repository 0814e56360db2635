"""The warehouse: an Ibis backend that holds the canonical tables and everything written back.

The default is an embedded DuckDB file (``duckdb:///data/warehouse.duckdb`` under the
project root); ``JOURNEY_WAREHOUSE`` points at any other Ibis URL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import ibis

from features.config import url_path
from features.contract.schema import QUARANTINE_COLUMNS, TABLES
from features.errors import JourneyError, unknown_name_message
from features.io import duckdb_compat

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend


def connect(url: str, *, read_only: bool = False, must_exist: bool | None = None) -> BaseBackend:
    """Open the warehouse at ``url`` (``duckdb:////abs/path.duckdb`` or any Ibis URL).

    ``must_exist`` (default: ``read_only``) refuses a DuckDB file that is not there yet,
    naming the commands that create it. Commands that only read open read-write with
    ``must_exist=True`` when they may run in a process that already holds a read-write
    handle on the same file (``journey run``): DuckDB refuses to mix the two.
    """
    must_exist = read_only if must_exist is None else must_exist
    if url.startswith("duckdb:"):
        duckdb_compat.apply()
        path = url_path(url)
        if path is None:
            rest = url.removeprefix("duckdb://").lstrip("/")
            if rest not in ("", ":memory:"):
                raise JourneyError(
                    f"warehouse URL {url!r}: use duckdb:///relative/path, "
                    "duckdb:////absolute/path or duckdb:///:memory:"
                )
            con = ibis.duckdb.connect(":memory:")
        else:
            if must_exist and not path.exists():
                raise JourneyError(
                    f"no warehouse at {path}: run `journey simulate` or `journey load` first"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            con = ibis.duckdb.connect(str(path), read_only=read_only)
        duckdb_compat.configure(con)
        return con
    return ibis.connect(url)


@contextlib.contextmanager
def transaction(con: BaseBackend) -> Iterator[BaseBackend]:
    """Run the block in one transaction: all of it is written, or none of it."""
    con.raw_sql("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.raw_sql("ROLLBACK")
        raise
    con.raw_sql("COMMIT")


def replace_tables(con: BaseBackend, tables: Mapping[str, ir.Table]) -> None:
    """Replace each table's contents; callers wrap this in :func:`transaction`."""
    for name, expr in tables.items():
        con.create_table(name, expr, overwrite=True)


def empty_table(name: str) -> ir.Table:
    """An empty canonical (or quarantine) table with the contract's schema."""
    schema = ibis.schema(QUARANTINE_COLUMNS if name == "quarantine" else TABLES[name].ibis_schema())
    return ibis.memtable(schema.to_pyarrow().empty_table())


def canonical_tables(con: BaseBackend) -> dict[str, ir.Table]:
    """The canonical tables present in the warehouse, by name."""
    present = set(con.list_tables())
    missing = [t for t in TABLES if t not in present]
    if len(missing) == len(TABLES):
        raise JourneyError(
            "the warehouse holds no journey data: run `journey simulate` or `journey load`"
        )
    return {name: con.table(name) for name in TABLES if name in present}


def table(con: BaseBackend, name: str) -> ir.Table:
    """One warehouse table; an unknown name lists those that exist."""
    present = con.list_tables()
    if name not in present:
        raise JourneyError(unknown_name_message("warehouse table", name, present))
    return con.table(name)


def _schema_diff(have: ibis.Schema, want: ibis.Schema) -> str:
    missing = [c for c in want.names if c not in have.names]
    extra = [c for c in have.names if c not in want.names]
    retyped = [
        f"{c} ({have[c]} -> {want[c]})"
        for c in want.names
        if c in have.names and have[c].copy(nullable=True) != want[c].copy(nullable=True)
    ]
    parts = [
        f"{label}: {', '.join(cols)}"
        for label, cols in (("new", missing), ("dropped", extra), ("retyped", retyped))
        if cols
    ]
    if not parts and list(have.names) != list(want.names):
        parts.append("same columns in a different order")
    return "; ".join(parts)


def replace_rows(
    con: BaseBackend, name: str, expr: ir.Table, *, where: Mapping[str, object]
) -> None:
    """Replace the rows of table ``name`` that match ``where`` (column = value) with ``expr``.

    Creates the table on first use. A table whose columns differ from ``expr``'s is an
    error naming the differences (rows written with other settings would not line up).
    Callers wrap this in :func:`transaction` so readers see the old rows or the new ones.
    """
    import sqlglot as sg
    import sqlglot.expressions as sge

    if name not in con.list_tables():
        con.create_table(name, schema=expr.schema())
    else:
        have = con.table(name).schema()
        diff = _schema_diff(have, expr.schema())
        if diff:
            raise JourneyError(
                f"warehouse table {name!r} was written with other columns ({diff}); "
                f"drop it or rebuild every date with the current params"
            )
        cond = sge.and_(
            *(sg.column(col, quoted=True).eq(sge.convert(value)) for col, value in where.items())
        )
        con.raw_sql(sg.delete(sg.table(name, quoted=True)).where(cond).sql(con.dialect))
    con.insert(name, expr)
