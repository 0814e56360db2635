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


def _has_type(value: ir.Value, dtype: str) -> bool:
    """Whether ``value`` already has the contract type ``dtype`` (nullability aside).

    A naive timestamp with microsecond scale (Arrow's ``timestamp[us]``) is the contract's
    ``timestamp``: DuckDB stores both as TIMESTAMP, so casting it would change nothing.
    """
    got, want = value.type().copy(nullable=True), ibis.dtype(dtype)
    if got == want:
        return True
    return (
        got.is_timestamp()
        and want.is_timestamp()
        and got.timezone is None
        and want.timezone is None
        and got.scale in (None, 6)
        and want.scale is None
    )


def _strip(raw: ir.StringValue) -> ir.StringValue:
    """``raw.strip()``, computed only for values that start or end with a character <= 32.

    ``strip`` trims ``string.whitespace``, all of which are <= 32, so the result is the
    same for every value; DuckDB's ``trim`` with a character set is several times slower
    than the two ``ascii`` tests on large inputs that are almost always clean.
    """
    edge = (raw.ascii_str() <= 32) | (raw.right(1).ascii_str() <= 32)
    return ibis.ifelse(edge, raw.strip(), raw)


def _typed(t: ir.Table, col: Column, table: str, fmt: str | None = None) -> ir.Value:
    if col.name not in t.columns:
        default = DEFAULTS.get((table, col.name))
        return (
            ibis.literal(default, type=col.dtype) if default is not None else ibis.null(col.dtype)
        )
    raw = t[col.name]
    if raw.type().is_string():
        # Blank strings are missing values, as they are in every CSV.
        raw = _strip(raw).nullif("")
    if fmt is not None and raw.type().is_string():
        typed = _try_strptime(raw, fmt)
    elif _has_type(raw, col.dtype):
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


def _with_duplicates(t: ir.Table, table: Table) -> ir.Table:
    """``t`` plus ``_dup_first``: the first row of the row's key when the key is duplicated.

    Only keys seen more than once are joined back, so a large table with unique keys costs
    one hash aggregate rather than a window over every row.
    """
    pk = list(table.primary_key)
    keyed = t.filter(ibis.and_(*[t[k].notnull() for k in pk]))
    groups = keyed.group_by(pk).agg(_dup_first=keyed[ROW].min(), _dup_n=keyed[ROW].count())
    dups = groups.filter(groups._dup_n > 1).select(
        *[groups[k].name(f"_dupk_{k}") for k in pk], "_dup_first"
    )
    joined = t.left_join(dups, [t[k] == dups[f"_dupk_{k}"] for k in pk])
    return joined.drop(*[f"_dupk_{k}" for k in pk])


def _key_reasons(t: ir.Table, table: Table) -> list[tuple[str, ir.StringValue]]:
    pk = list(table.primary_key)
    first = t._dup_first
    key_shown = (
        ibis.literal(", ").join([_show(t[k]) for k in pk]) if len(pk) > 1 else _show(t[pk[0]])
    )
    has_key = ibis.and_(*[t[k].notnull() for k in pk])
    return [
        (
            pk[0],
            ibis.ifelse(
                has_key & first.notnull() & (first != t[ROW]),
                f"duplicate {'/'.join(pk)} '"
                + key_shown
                + "' (first at row "
                + first.cast("string")
                + ")",
                _NULL,
            ),
        )
    ]


def _checks(t: ir.Table, table: Table, now: dt.datetime) -> list[tuple[str, ir.StringValue]]:
    """``(column, reason-or-null)`` for every check of ``table`` on staged rows ``t``."""
    checks = _row_reasons(t, table, now) + _key_reasons(t, table)
    for fk, (parent, parent_col) in table.foreign_keys.items():
        checks.append(
            (
                fk,
                ibis.ifelse(
                    t[fk].notnull() & t[f"_found_{fk}"].isnull(),
                    f"{fk}: '" + t[fk] + f"' is not an accepted {parent}.{parent_col}",
                    _NULL,
                ),
            )
        )
    return checks


def _temp_table(con: BaseBackend, name: str, expr: ir.Table) -> ir.Table:
    """A fresh temporary table. ``create_table(overwrite=True)`` would write ``expr`` to a
    scratch table and then copy all of it; dropping first writes it once."""
    if name in con.list_tables():
        con.drop_table(name, force=True)
    return con.create_table(name, expr, temp=True)


def _stage(
    con: BaseBackend, staged: Staged, table: Table, parents: dict[str, ir.Table], now: dt.datetime
) -> tuple[ir.Table, ir.Table]:
    """``(accepted, rejected)``: accepted rows with the contract's columns, and rejected rows
    with their ``_row``, ``_source``, ``_reason``, ``_column``, ``_value`` and ``_record``.

    The checks are materialized once; reasons are assembled for rejected rows only.
    """
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
            if c in table.column_names and not _has_type(src[c], table.column(c).dtype)
        },
        **{ROW: src[ROW].cast("int64"), SOURCE: src[SOURCE].cast("string")},
    )
    for fk, (parent, parent_col) in table.foreign_keys.items():
        keys = parents[parent].select(**{f"_ref_{fk}": parents[parent][parent_col]}).distinct()
        keys = keys.mutate(**{f"_found_{fk}": ibis.literal(True)})
        typed = typed.left_join(keys, typed[fk] == keys[f"_ref_{fk}"]).drop(f"_ref_{fk}")
    typed = _with_duplicates(typed, table)
    # Materialize the typed rows once, with one flag for "passes every check"; the reason
    # strings are built again from the stored columns for the rejected rows only, so a
    # large clean table costs no per-row strings.
    ok = ibis.and_(*[r.isnull() for _, r in _checks(typed, table, now)])
    named = _temp_table(con, f"_chk_{table.name}", typed.mutate(_ok=ok))
    good = named.filter(named._ok).select(*table.column_names)
    bad = named.filter(~named._ok)
    checks = _checks(bad, table, now)
    reason_cols = [r for _, r in checks]
    reasons = ibis.array(reason_cols).filter(lambda x: x.notnull())
    first_col = ibis.cases(
        *[(r.notnull(), col) for r, (col, _) in zip(reason_cols, checks, strict=True)], else_=_NULL
    )
    first_value = ibis.cases(
        *[
            (
                r.notnull(),
                _show(bad[f"_raw_{col}"] if f"_raw_{col}" in bad.columns else bad[col]),
            )
            for r, (col, _) in zip(reason_cols, checks, strict=True)
        ],
        else_=_NULL,
    )
    raw_names = [c for c in src.columns if c not in (ROW, SOURCE)]
    record = ibis.struct(
        {c: bad[f"_raw_{c}"] if f"_raw_{c}" in bad.columns else bad[c] for c in raw_names}
    ).cast("string")
    out = bad.select(
        *[bad[c.name] for c in table.columns],
        bad[ROW],
        bad[SOURCE],
        _reason=reasons.join("; "),
        _column=first_col,
        _value=first_value,
        _record=record,
    )
    return good, _temp_table(con, f"_stage_{table.name}", out)


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
        good, bad = _stage(con, staged[name], table, parents, now)
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
