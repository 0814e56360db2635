"""The canonical tables as a Parquet folder: one sub-folder per table, the contract's schema.

``<folder>/<table>/part-0.parquet`` for each canonical table the warehouse holds. This is
what the Spark engine reads (``spark.source``), and what any other engine or a data lake
can read. Timestamps stay naive UTC (Parquet ``TIMESTAMP`` without UTC adjustment), as in
the warehouse.

Writing replaces each table's folder whole: the new one is written beside the old one
and swapped in by renames, so a reader sees the old table or the new one.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt

from features.contract.schema import TABLES
from features.errors import JourneyError
from features.io.warehouse import canonical_tables

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

PART = "part-0.parquet"


def export_parquet(
    con: BaseBackend,
    folder: Path,
    *,
    on_table: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write every canonical table in the warehouse to ``folder/<table>/``; rows per table.

    Each table's folder is replaced whole (written beside it, then renamed over it).
    ``on_table(name)`` is called before each table, for progress.
    """
    tables = canonical_tables(con)
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    for name, table in tables.items():
        if on_table is not None:
            on_table(name)
        live = folder / name
        token = uuid.uuid4().hex[:8]
        tmp = folder / f".{name}.tmp-{token}"
        tmp.mkdir()
        try:
            table.to_parquet(tmp / PART)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if live.exists():
            old = folder / f".{name}.old-{token}"
            live.rename(old)
            tmp.rename(live)
            shutil.rmtree(old)
        else:
            tmp.rename(live)
        rows[name] = int(table.count().to_pyarrow().as_py())
    return rows


def table_folders(folder: Path) -> dict[str, Path]:
    """The canonical tables present under ``folder``, by name; none at all is an error."""
    if not folder.is_dir():
        raise JourneyError(
            f"no Parquet folder at {folder}: run `journey export-parquet --to {folder}` first"
        )
    found = {name: folder / name for name in TABLES if (folder / name).is_dir()}
    if not found:
        raise JourneyError(
            f"{folder} holds none of the canonical tables ({', '.join(TABLES)}) as "
            "sub-folders: run `journey export-parquet` first"
        )
    return found


def _same_type(have: dt.DataType, want: dt.DataType) -> bool:
    # Parquet stores microseconds; the contract's timestamps leave the precision open.
    if have.is_timestamp() and want.is_timestamp():
        return have.timezone == want.timezone
    return have.copy(nullable=True) == want.copy(nullable=True)


def check_schema(name: str, have: ibis.Schema, where: str) -> None:
    """Refuse a table whose columns or types differ from the contract, naming each column.

    Extra columns are allowed (a lake may carry more); nullability is not compared.
    """
    want = TABLES[name].ibis_schema()
    missing = [c for c in want.names if c not in have.names]
    retyped = [
        f"{c} is {have[c]}, the contract says {want[c]}"
        for c in want.names
        if c in have.names and not _same_type(have[c], want[c])
    ]
    if missing or retyped:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        parts += retyped
        raise JourneyError(
            f"table {name!r} at {where} does not match the contract: " + "; ".join(parts)
        )


def read_parquet_tables(folder: Path, con: BaseBackend | None = None) -> dict[str, ir.Table]:
    """The canonical tables of a Parquet folder as Ibis tables (DuckDB by default), checked.

    Columns are selected in the contract's order.
    """
    from features.io.warehouse import connect

    con = con if con is not None else connect("duckdb:///:memory:")
    out: dict[str, ir.Table] = {}
    for name, path in table_folders(folder).items():
        files = sorted(path.rglob("*.parquet"))
        if not files:
            raise JourneyError(f"table {name!r}: no .parquet files under {path}")
        table = con.read_parquet([str(f) for f in files], table_name=f"parquet_{name}")
        check_schema(name, table.schema(), str(path))
        out[name] = table.select(*TABLES[name].column_names)
    return out


def row_counts(tables: Mapping[str, ir.Table]) -> dict[str, int]:
    """Rows per table (one count query each)."""
    return {name: int(t.count().to_pyarrow().as_py()) for name, t in tables.items()}
