"""Build staged canonical tables from sources by configuration: ``loaders.mappings`` in params.

A mapping names its sources (files, or SQL over earlier sources) and, per canonical table,
one DuckDB SQL expression per contract column over a source's columns, with an optional
``where`` and ``group_by``. Nothing here knows any particular dataset; the built-in
adapters are mappings too.

Every staged row keeps ``_row`` and ``_source`` from the source row it came from (the
first row of its group when grouped), so the validator's quarantine points at a file line.
Mistakes in a mapping (an unknown table, column or source, SQL that does not run) are
:class:`ContractError` naming the mapping, table and column, with the closest valid name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import sqlglot
import sqlglot.expressions as sge

from features.config import DatasetMapping, SourceParams, TableMapping
from features.contract.schema import TABLES
from features.contract.validate import ROW, SOURCE, Staged
from features.errors import ContractError, unknown_name_message
from features.io.sources import Source, duckdb_message, ident, read_source

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

# Helpers a mapping's SQL may use, defined on the connection before tables are staged.
MACROS = {
    # The earliest time among a group's texts, written back in ``fmt``; if none parse,
    # the smallest text, so that the validator reports it as unparseable, not missing.
    "earliest": "(s, fmt) AS coalesce(strftime(min(try_strptime(s, fmt)), fmt), min(s))",
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class StagedDataset:
    """A dataset ready for :func:`features.io.ingest.load_dataset`, with what it read."""

    name: str
    staged: dict[str, Staged]
    sources: dict[str, Source]


def referenced_columns(sql: str) -> set[str] | None:
    """Unqualified column names an SQL expression uses; None if sqlglot cannot parse it."""
    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
    except sqlglot.errors.SqlglotError:
        return None  # DuckDB may still accept it; its own error names the problem
    bound = {i.name for lam in tree.find_all(sge.Lambda) for i in lam.expressions}
    return {c.name for c in tree.find_all(sge.Column) if not c.table and c.name not in bound}


def _check_names(where: str, sqls: Iterable[str], source: Source) -> None:
    valid = {c.lower(): c for c in (*source.columns, ROW, SOURCE)}
    for sql in sqls:
        for name in sorted(referenced_columns(sql) or ()):
            if name.lower() not in valid:
                raise ContractError(
                    f"{where}: `{sql}` uses "
                    + unknown_name_message(
                        f"column of source {source.name!r} ({source.described})",
                        name,
                        source.columns,
                    )
                )


def _derive(
    con: BaseBackend, name: str, spec: SourceParams, known: dict[str, Source], where: str
) -> Source:
    assert spec.sql is not None

    def view(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref not in known:
            raise ContractError(
                f"{where}: `{{{ref}}}` names "
                + unknown_name_message("earlier source", ref, known or ["(none)"])
            )
        return ident(known[ref].view)

    sql = _PLACEHOLDER.sub(view, spec.sql)
    used = [known[r] for r in dict.fromkeys(_PLACEHOLDER.findall(spec.sql))]
    table = f"_src_{name}"
    try:
        con.raw_sql(f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS {sql}")
    except duckdb.Error as err:
        raise ContractError(f"{where}: the SQL does not run: {duckdb_message(err)}") from None
    expr = con.sql(f"SELECT * FROM {ident(table)}")
    lost = [c for c in (ROW, SOURCE) if c not in expr.columns]
    if lost:
        raise ContractError(
            f"{where}: the SQL must keep {ROW} and {SOURCE} from its sources; "
            f"it drops {', '.join(lost)}"
        )
    return Source(
        name=name,
        view=table,
        files=tuple(f for s in used for f in s.files),
        rows=int(expr.count().to_pandas()),
        columns=tuple(c for c in expr.columns if c not in (ROW, SOURCE)),
        expr=expr,
    )


def _run_checks(con: BaseBackend, source: Source, checks: dict[str, str], where: str) -> None:
    for column, condition in checks.items():
        if column not in source.columns:
            raise ContractError(
                f"{where}: check on "
                + unknown_name_message(f"column of source {source.name!r}", column, source.columns)
            )
        sql = (
            f"SELECT {SOURCE}, {ROW}, CAST({ident(column)} AS VARCHAR) AS v, count(*) OVER () AS n "
            f"FROM {ident(source.view)} WHERE NOT coalesce(({condition}), false) "
            f"ORDER BY {SOURCE}, {ROW} LIMIT 1"
        )
        try:
            bad = con.sql(sql).to_pyarrow().to_pylist()
        except duckdb.Error as err:
            raise ContractError(
                f"{where}: check `{condition}` does not run: {duckdb_message(err)}"
            ) from None
        if bad:
            b = bad[0]
            raise ContractError(
                f"{b[SOURCE]} row {b[ROW]}, column {column}: value {b['v']!r} fails the check "
                f"`{condition}` ({b['n']:,} row(s) fail)"
            )


def _table_sql(tm: TableMapping, view: str, exprs: dict[str, str]) -> str:
    if tm.group_by:
        origin = f"arg_min({ROW}, ({SOURCE}, {ROW})) AS {ROW}, min({SOURCE}) AS {SOURCE}"
    else:
        origin = f"{ROW}, {SOURCE}"
    cols = ", ".join(f"{sql} AS {ident(col)}" for col, sql in exprs.items())
    sql = f"SELECT {cols}, {origin} FROM {ident(view)}"
    if tm.where:
        sql += f" WHERE {tm.where}"
    if tm.group_by:
        sql += " GROUP BY " + ", ".join(tm.group_by)
    return sql


def _locate(con: BaseBackend, tm: TableMapping, view: str) -> str | None:
    """Which part of a failing table mapping fails: its where, group_by or a column."""
    src = ident(view) + (f" WHERE {tm.where}" if tm.where else "")
    probes = []
    if tm.where:
        probes.append((f"where `{tm.where}`", f"SELECT count(*) FROM {src}"))
    if tm.group_by:
        keys = ", ".join(tm.group_by)
        probes.append(
            (f"group_by `{keys}`", f"SELECT count(*) FROM (SELECT 1 FROM {src} GROUP BY {keys})")
        )
    for col, sql in tm.columns.items():
        probe = f"SELECT count(x) FROM ({_table_sql(tm, view, {'x': sql})})"
        probes.append((f"column {col!r} = `{sql}`", probe))
    for label, probe in probes:
        try:
            con.sql(probe).execute()
        except duckdb.Error as err:
            return f"{label}: {duckdb_message(err)}"
    return None


def _stage_table(
    con: BaseBackend, table: str, tm: TableMapping, source: Source, where: str
) -> Staged:
    contract = TABLES[table]
    for col in tm.columns:
        if col not in contract.column_names:
            raise ContractError(
                f"{where}: "
                + unknown_name_message(f"column of {table!r}", col, contract.column_names)
            )
    missing = [c for c in contract.required_columns if c not in tm.columns]
    if missing:
        raise ContractError(
            f"{where}: required column(s) {', '.join(missing)} are not mapped "
            f"(mapped: {', '.join(tm.columns)})"
        )
    for col in tm.formats:
        if col not in tm.columns:
            raise ContractError(
                f"{where}: a format is given for {col!r}, which is not mapped "
                f"(mapped: {', '.join(tm.columns)})"
            )
    _check_names(where, [*tm.columns.values(), *tm.group_by, *filter(None, [tm.where])], source)
    out = f"_map_{table}"
    sql = _table_sql(tm, source.view, tm.columns) + f" ORDER BY {SOURCE}, {ROW}"
    try:
        con.raw_sql(f"CREATE OR REPLACE TEMP TABLE {ident(out)} AS {sql}")
    except duckdb.Error as err:
        culprit = _locate(con, tm, source.view) or duckdb_message(err)
        raise ContractError(f"{where}, {culprit}") from None
    expr = con.sql(f"SELECT * FROM {ident(out)}")
    if int(expr.count().to_pandas()) == 0:
        raise ContractError(
            f"{where}: no rows: where `{tm.where}` keeps none of the {source.rows:,} rows "
            f"of source {source.name!r}"
        )
    return Staged(table, expr, f"{where} (from {source.described})", dict(tm.formats))


def stage_mapping(
    con: BaseBackend, mapping: DatasetMapping, *, name: str, base: Path = Path(".")
) -> StagedDataset:
    """Read ``mapping``'s sources into ``con`` and stage each canonical table it maps.

    File sources are relative to ``base``. Tables are staged in contract order (parents
    first); each becomes a temporary table ``_map_<table>`` of raw values, typed and
    checked later by the validator.
    """
    for table, tm in mapping.tables.items():
        if table not in TABLES:
            raise ContractError(
                f"mapping {name!r}: " + unknown_name_message("table", table, TABLES)
            )
        if tm.source not in mapping.sources:
            raise ContractError(
                f"mapping {name!r}, table {table!r}: "
                + unknown_name_message("source", tm.source, mapping.sources)
            )
    sources: dict[str, Source] = {}
    for src, spec in mapping.sources.items():
        where = f"mapping {name!r}, source {src!r}"
        if spec.file is not None:
            sources[src] = read_source(
                con, spec.file, name=src, base=base, fmt=spec.format, options=spec.options
            )
        else:
            sources[src] = _derive(con, src, spec, sources, where)
        _run_checks(con, sources[src], spec.checks, where)
    for macro, body in MACROS.items():
        con.raw_sql(f"CREATE OR REPLACE TEMP MACRO {macro}{body}")
    staged = {
        table: _stage_table(
            con,
            table,
            mapping.tables[table],
            sources[mapping.tables[table].source],
            f"mapping {name!r}, table {table!r}",
        )
        for table in TABLES
        if table in mapping.tables
    }
    return StagedDataset(name, staged, sources)
