"""Read CSV and Parquet files into the warehouse connection, every row tagged with its origin.

A source is one file, a glob or a folder. Each row gets ``_row`` (its 1-based position in
its own file: for CSV the file line minus the header) and ``_source`` (the file path), so
that every quarantined row and every error points at the line it came from.

CSV is read with every column as text: the validator then reports a wrongly typed value
per row with its raw text instead of the reader failing the whole file. The header is
read here and the column list given to DuckDB, so DuckDB's reader never guesses, and a
malformed line is an error naming its line. Parquet arrives typed.
"""

from __future__ import annotations

import csv
import glob
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from features.contract.validate import ROW, SOURCE
from features.errors import ContractError, JourneyError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_KIND = {"csv": "CSV", "parquet": "Parquet"}
_CSV_DEFAULTS = {"header": True, "quote": '"', "escape": '"'}


@dataclass(frozen=True)
class Source:
    """A source read into the warehouse connection as the temporary view ``view``."""

    name: str
    view: str
    files: tuple[Path, ...]
    rows: int
    columns: tuple[str, ...]
    expr: ir.Table

    @property
    def described(self) -> str:
        shown = ", ".join(str(f) for f in self.files[:3])
        more = f" and {len(self.files) - 3} more" if len(self.files) > 3 else ""
        return shown + more


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A Python value (str, number, bool, list, dict) as a DuckDB SQL literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{literal(str(k))}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as an SQL literal")


def require_duckdb(con: BaseBackend) -> None:
    if getattr(con, "name", None) != "duckdb":
        raise JourneyError(
            f"reading files needs a DuckDB warehouse; this one is {getattr(con, 'name', con)!r}"
        )


def find_files(spec: str | Path, *, base: Path, fmt: str | None = None) -> list[Path]:
    """The files a source names: one file, a glob, or every CSV/Parquet file in a folder."""
    path = Path(spec) if Path(spec).is_absolute() else base / spec
    if glob.has_magic(str(path)):
        files = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    elif path.is_dir():
        suffixes = {"parquet": PARQUET_SUFFIXES, "csv": CSV_SUFFIXES}.get(
            fmt or "", PARQUET_SUFFIXES + CSV_SUFFIXES
        )
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    elif path.is_file():
        files = [path]
    else:
        raise ContractError(f"{path}: no such file or folder")
    if not files:
        raise ContractError(f"{path}: matches no {fmt or 'CSV or Parquet'} files")
    return files


def default_file(path: Path, name: str) -> Path:
    """``path`` itself when it is a file, else ``path/name``, which must exist."""
    found = path if path.is_file() else path / name
    if not found.is_file():
        raise ContractError(f"{found}: no such file (expected {name} in {path})")
    return found


def file_format(path: Path, fmt: str | None) -> str:
    return fmt or ("parquet" if path.suffix.lower() in PARQUET_SUFFIXES else "csv")


def duckdb_message(err: Exception) -> str:
    """The useful head of a DuckDB error: up to its list of possible fixes, on one line."""
    text = re.split(r"Possible fixes:|\nLINE \d+:", str(err))[0]
    text = re.sub(r"^[A-Za-z ]*Error: ", "", text.strip())
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _header(path: Path, options: Mapping[str, Any]) -> list[str]:
    """Column names from the header line (or ``column0..`` when there is none)."""
    delim = options.get("delim", options.get("sep", "\t" if path.suffix == ".tsv" else ","))
    quote = options.get("quote", '"') or None
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as f:
        for _ in range(int(options.get("skip", 0))):
            f.readline()
        reader = csv.reader(
            f,
            delimiter=delim,
            quotechar=quote,
            quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
        )
        first = next(reader, None)
    if not first or not any(c.strip() for c in first):
        raise ContractError(f"{path}: no header line (the file holds only blank lines)")
    if not options.get("header", True):
        return [f"column{i}" for i in range(len(first))]
    names = [c.strip() or f"column{i}" for i, c in enumerate(first)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ContractError(f"{path}: the header repeats column(s) {', '.join(dupes)}")
    reserved = [n for n in names if n in (ROW, SOURCE)]
    if reserved:
        raise ContractError(f"{path}: column name(s) {', '.join(reserved)} are reserved")
    return names


def _read_sql(path: Path, fmt: str, options: Mapping[str, Any]) -> str:
    where = literal(str(path))
    if fmt == "parquet":
        if options:
            raise ContractError(f"{path}: options apply to CSV files, got {sorted(options)}")
        return (
            f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS {ROW}, "
            f"{where} AS {SOURCE} FROM read_parquet({where}, file_row_number = true)"
        )
    opts = {**_CSV_DEFAULTS, **options}
    if "delim" not in opts and "sep" not in opts:
        opts["delim"] = "\t" if path.suffix.lower() == ".tsv" else ","
    if "columns" not in opts:
        opts["columns"] = {name: "VARCHAR" for name in _header(path, opts)}
    opts["auto_detect"] = False
    args = ", ".join(f"{k} = {literal(v)}" for k, v in opts.items())
    return (
        f"SELECT *, row_number() OVER () AS {ROW}, {where} AS {SOURCE} "
        f"FROM read_csv({where}, {args})"
    )


def read_source(
    con: BaseBackend,
    spec: str | Path,
    *,
    name: str,
    base: Path = Path("."),
    fmt: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> Source:
    """Read a file, glob or folder into ``con`` as the temporary view ``_src_<name>``.

    Every file must have the same columns. An empty, unreadable or corrupt file is a
    :class:`ContractError` naming it; so is a source with no data rows at all.
    """
    require_duckdb(con)
    options = dict(options or {})
    files = find_files(spec, base=base, fmt=fmt)
    view = f"_src_{name}"
    parts: list[str] = []
    columns: tuple[str, ...] | None = None
    for i, path in enumerate(files):
        kind = file_format(path, fmt)
        if path.stat().st_size == 0:
            raise ContractError(f"{path}: the file is empty")
        part = f"_part_{name}_{i}"
        try:
            con.raw_sql(
                f"CREATE OR REPLACE TEMP TABLE {ident(part)} AS {_read_sql(path, kind, options)}"
            )
        except duckdb.Error as err:
            raise ContractError(
                f"{path}: cannot read as {_KIND[kind]}: {duckdb_message(err)}"
            ) from None
        cols = tuple(c for c in con.sql(f"SELECT * FROM {ident(part)}").columns)
        if columns is not None and set(cols) != set(columns):
            missing = sorted(set(columns) - set(cols))
            extra = sorted(set(cols) - set(columns))
            raise ContractError(
                f"{path}: columns differ from {files[0].name}: "
                f"missing {', '.join(missing) or 'none'}; extra {', '.join(extra) or 'none'}"
            )
        columns = cols
        parts.append(f"SELECT * FROM {ident(part)}")
    con.raw_sql(
        f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS " + " UNION ALL BY NAME ".join(parts)
    )
    expr = con.sql(f"SELECT * FROM {ident(view)}")
    rows = int(expr.count().to_pandas())
    if rows == 0:
        raise ContractError(f"{', '.join(map(str, files))}: no data rows (only a header)")
    assert columns is not None
    return Source(
        name=name,
        view=view,
        files=tuple(files),
        rows=rows,
        columns=tuple(c for c in columns if c not in (ROW, SOURCE)),
        expr=expr,
    )
