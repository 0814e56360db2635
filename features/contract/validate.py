"""Validate staged tables against the contract and split them into accepted and quarantined.

Every check is an Ibis expression, so validation runs inside the warehouse engine
(DuckDB here) at any size, and the same checks re-run on what is already loaded.

For each input row exactly one thing happens: it is accepted into its canonical table,
or it goes to ``quarantine`` with every reason that applies (the file, row, column and
value of the first). Whole-input problems (a required column missing, a column the
contract does not know) raise :class:`~features.errors.ContractError` instead. So for
every table, rows read = rows accepted + rows quarantined.

Duplicate keys: the first row (in input order) keeps the key; later copies are
quarantined. References: a child row is accepted only if its parent row was accepted,
so quarantining an order also quarantines its lines and their returns, and counts still
reconcile.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import ibis

from features.contract.schema import QUARANTINE_COLUMNS, TABLES, Column, Table
from features.errors import ContractError, unknown_name_message

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

ROW = "_row"  # 1-based position of the row in its source (file line minus the header)
SOURCE = "_source"  # where the row came from: a file path or a description
_NULL = ibis.null("string")

# Optional non-nullable columns take these values when a source does not have them.
DEFAULTS: dict[tuple[str, str], object] = {
    ("orders", "is_refund"): False,
    ("returns", "quantity"): 1,
}


@dataclass(frozen=True)
class Staged:
    """Rows for one canonical table, before validation.

    ``expr`` has any subset of the table's columns (raw strings or typed) plus ``_row``
    and ``_source``. ``formats`` gives a strptime format per timestamp column held as
    raw strings (``{"ts": "%Y%m%d"}``); a value that does not match is reported as
    unparseable with its raw text, like any other wrong type.
    """

    table: str
    expr: ir.Table
    source: str
    formats: Mapping[str, str] = field(default_factory=dict)


@ibis.udf.scalar.builtin(name="try_strptime")
def _try_strptime(value: str, fmt: str) -> dt.datetime:
    """DuckDB's ``try_strptime``: null where ``value`` does not match ``fmt``."""
    raise NotImplementedError("runs inside DuckDB only")


@dataclass
class TableReport:
    """Reconciliation of one table: rows read = accepted + quarantined."""

    table: str
    read: int
    accepted: int
    quarantined: int
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def reconciles(self) -> bool:
        return self.read == self.accepted + self.quarantined


@dataclass
class ValidationResult:
    """Accepted rows per table, the quarantine rows and the per-table report."""

    accepted: dict[str, ir.Table]
    quarantine: ir.Table
    reports: dict[str, TableReport]


def _check_columns(staged: Staged, table: Table) -> None:
    present = [c for c in staged.expr.columns if c not in (ROW, SOURCE)]
    unknown = [c for c in present if c not in table.column_names]
    if unknown:
        raise ContractError(
            f"{staged.source}: "
            + unknown_name_message(
                f"column for table {table.name!r}", unknown[0], table.column_names
            )
        )
    missing = [c for c in table.required_columns if c not in present]
    if missing:
        raise ContractError(
            f"{staged.source}: table {table.name!r} is missing required column(s) "
            f"{', '.join(missing)}; columns present: {', '.join(present) or 'none'}"
        )


def _typed(t: ir.Table, col: Column, table: str, fmt: str | None = None) -> ir.Value:
    if col.name not in t.columns:
        default = DEFAULTS.get((table, col.name))
        return (
            ibis.literal(default, type=col.dtype) if default is not None else ibis.null(col.dtype)
        )
    raw = t[col.name]
    if raw.type().is_string():
        # Blank strings are missing values, as they are in every CSV.
        raw = raw.strip().nullif("")
    if fmt is not None and raw.type().is_string():
        typed = _try_strptime(raw, fmt)
    elif raw.type().copy(nullable=True) == ibis.dtype(col.dtype):
        typed = raw
    else:
        typed = raw.try_cast(col.dtype)
    default = DEFAULTS.get((table, col.name))
    return typed if default is None else typed.fill_null(default)


def _show(v: ir.Value) -> ir.StringValue:
    return v.cast("string").fill_null("null")


def _row_reasons(t: ir.Table, table: Table, now: dt.datetime) -> list[tuple[str, ir.StringValue]]:
    """(column, reason-or-null) for every single-row check of ``table``."""
    checks: list[tuple[str, ir.StringValue]] = []
    for col in table.columns:
        typed = t[col.name]
        raw = t[f"_raw_{col.name}"] if f"_raw_{col.name}" in t.columns else None
        if raw is not None:
            raw_s = raw.cast("string")
            bad_parse = raw.notnull() & (raw_s.strip() != "") & typed.isnull()
            checks.append(
                (
                    col.name,
                    ibis.ifelse(
                        bad_parse,
                        f"{col.name}: cannot parse '" + raw_s + f"' as {col.dtype}",
                        _NULL,
                    ),
                )
            )
        if not col.nullable:
            missing = (
                typed.isnull()
                if raw is None
                else typed.isnull() & ~(raw.notnull() & (raw.cast("string").strip() != ""))
            )
            checks.append(
                (
                    col.name,
                    ibis.ifelse(
                        missing, ibis.literal(f"{col.name}: required value is missing"), _NULL
                    ),
                )
            )
        if col.allowed is not None:
            shown = ", ".join(str(a) for a in col.allowed)
            checks.append(
                (
                    col.name,
                    ibis.ifelse(
                        typed.notnull() & ~typed.isin(list(col.allowed)),
                        f"{col.name}: '" + _show(typed) + f"' is not one of {shown}",
                        _NULL,
                    ),
                )
            )
        if col.min is not None:
            checks.append(
                (
                    col.name,
                    ibis.ifelse(
                        typed < col.min,
                        f"{col.name}: " + _show(typed) + f" is below {col.min:g}",
                        _NULL,
                    ),
                )
            )
        if col.max is not None:
            checks.append(
                (
                    col.name,
                    ibis.ifelse(
                        typed > col.max,
                        f"{col.name}: " + _show(typed) + f" is above {col.max:g}",
                        _NULL,
                    ),
                )
            )
    for name in table.time_columns:
        checks.append(
            (
                name,
                ibis.ifelse(
                    t[name] > now,
                    f"{name}: "
                    + _show(t[name])
                    + f" is in the future (after {now:%Y-%m-%d %H:%M})",
                    _NULL,
                ),
            )
        )
    for rule in table.rules:
        checks.append(
            (
                rule.columns[0],
                ibis.ifelse(
                    rule.violates(t).fill_null(False),
                    ibis.literal(f"{rule.name}: {rule.message}"),
                    _NULL,
                ),
            )
        )
    return checks


def _key_reasons(t: ir.Table, table: Table) -> list[tuple[str, ir.StringValue]]:
    pk = list(table.primary_key)
    first = t[ROW].min().over(group_by=pk)
    key_shown = (
        ibis.literal(", ").join([_show(t[k]) for k in pk]) if len(pk) > 1 else _show(t[pk[0]])
    )
    has_key = ibis.and_(*[t[k].notnull() for k in pk])
    return [
        (
            pk[0],
            ibis.ifelse(
                has_key & (first != t[ROW]),
                f"duplicate {'/'.join(pk)} '"
                + key_shown
                + "' (first at row "
                + first.cast("string")
                + ")",
                _NULL,
            ),
        )
    ]


def _stage(
    con: BaseBackend, staged: Staged, table: Table, parents: dict[str, ir.Table], now: dt.datetime
) -> ir.Table:
    """Typed columns plus ``_reason``, ``_column``, ``_value`` and ``_record`` per row."""
    _check_columns(staged, table)
    for name in staged.formats:
        if name not in table.column_names:
            raise ContractError(
                f"{staged.source}: format given for "
                + unknown_name_message(f"column of {table.name!r}", name, table.column_names)
            )
        if table.column(name).dtype != "timestamp":
            raise ContractError(
                f"{staged.source}: a format is given for {table.name}.{name}, "
                f"which is {table.column(name).dtype}; formats apply to timestamp columns"
            )
    src = staged.expr
    typed = src.select(
        **{c.name: _typed(src, c, table.name, staged.formats.get(c.name)) for c in table.columns},
        **{
            f"_raw_{c}": src[c]
            for c in src.columns
            if c in table.column_names
            and not src[c].type().equals(ibis.dtype(table.column(c).dtype))
        },
        **{ROW: src[ROW].cast("int64"), SOURCE: src[SOURCE].cast("string")},
    )
    for fk, (parent, parent_col) in table.foreign_keys.items():
        keys = parents[parent].select(**{f"_ref_{fk}": parents[parent][parent_col]}).distinct()
        keys = keys.mutate(**{f"_found_{fk}": ibis.literal(True)})
        typed = typed.left_join(keys, typed[fk] == keys[f"_ref_{fk}"]).drop(f"_ref_{fk}")
    checks = _row_reasons(typed, table, now) + _key_reasons(typed, table)
    for fk, (parent, parent_col) in table.foreign_keys.items():
        checks.append(
            (
                fk,
                ibis.ifelse(
                    typed[fk].notnull() & typed[f"_found_{fk}"].isnull(),
                    f"{fk}: '" + typed[fk] + f"' is not an accepted {parent}.{parent_col}",
                    _NULL,
                ),
            )
        )
    # Materialize each reason once so the combining step does not recompute them.
    named = typed.mutate(**{f"_chk{i}": r for i, (_, r) in enumerate(checks)})
    named = con.create_table(f"_chk_{table.name}", named, temp=True, overwrite=True)
    reason_cols = [named[f"_chk{i}"] for i in range(len(checks))]
    reasons = ibis.array(reason_cols).filter(lambda x: x.notnull())
    first_col = ibis.cases(
        *[(r.notnull(), col) for r, (col, _) in zip(reason_cols, checks, strict=True)], else_=_NULL
    )
    first_value = ibis.cases(
        *[
            (
                r.notnull(),
                _show(named[f"_raw_{col}"] if f"_raw_{col}" in named.columns else named[col]),
            )
            for r, (col, _) in zip(reason_cols, checks, strict=True)
        ],
        else_=_NULL,
    )
    raw_names = [c for c in src.columns if c not in (ROW, SOURCE)]
    record = ibis.struct(
        {c: named[f"_raw_{c}"] if f"_raw_{c}" in named.columns else named[c] for c in raw_names}
    ).cast("string")
    out = named.select(
        *[named[c.name] for c in table.columns],
        named[ROW],
        named[SOURCE],
        _reason=ibis.ifelse(reasons.length() > 0, reasons.join("; "), _NULL),
        _column=first_col,
        _value=first_value,
        _record=ibis.ifelse(reasons.length() > 0, record, _NULL),
    )
    return con.create_table(f"_stage_{table.name}", out, temp=True, overwrite=True)


def validate(
    con: BaseBackend,
    staged: dict[str, Staged],
    *,
    now: dt.datetime,
    load_id: str,
    existing: dict[str, ir.Table] | None = None,
) -> ValidationResult:
    """Validate ``staged`` tables in contract order (parents before children).

    Parameters
    ----------
    con
        The backend that holds the staged expressions; temporary tables are made there.
    staged
        ``{table_name: Staged}``; tables not given are neither read nor written.
    now
        Timestamps after this are quarantined as being in the future.
    load_id
        Written to every quarantine row.
    existing
        Parent tables to check references against when a parent is not staged
        (for example the ``customers`` already in the warehouse).
    """
    for name in staged:
        if name not in TABLES:
            raise ContractError(unknown_name_message("table", name, TABLES))
    parents: dict[str, ir.Table] = dict(existing or {})
    accepted: dict[str, ir.Table] = {}
    quarantine_parts: list[ir.Table] = []
    reports: dict[str, TableReport] = {}
    for name, table in TABLES.items():
        if name not in staged:
            continue
        for parent, _ in table.foreign_keys.values():
            if parent not in parents:
                raise ContractError(
                    f"{staged[name].source}: table {name!r} references {parent!r}, "
                    f"which is neither loaded with it nor in the warehouse"
                )
        stage = _stage(con, staged[name], table, parents, now)
        good = stage.filter(stage._reason.isnull()).select(*table.column_names)
        bad = stage.filter(stage._reason.notnull())
        parents[name] = accepted[name] = good
        quarantine_parts.append(
            bad.select(
                load_id=ibis.literal(load_id),
                table_name=ibis.literal(name),
                source=bad[SOURCE],
                row_number=bad[ROW],
                column_name=bad._column,
                value=bad._value,
                reason=bad._reason,
                record=bad._record,
            )
        )
        counts = bad.group_by(r=bad._reason).agg(n=bad.count()).to_pandas()
        reasons = Counter(dict(zip(counts["r"], counts["n"].astype(int), strict=True)))
        reports[name] = TableReport(
            name,
            read=int(staged[name].expr.count().to_pandas()),
            accepted=int(good.count().to_pandas()),
            quarantined=int(sum(reasons.values())),
            reasons=reasons,
        )
    quarantine = (
        ibis.union(*quarantine_parts)
        if quarantine_parts
        else ibis.memtable(ibis.schema(QUARANTINE_COLUMNS).to_pyarrow().empty_table())
    )
    return ValidationResult(accepted, quarantine, reports)
