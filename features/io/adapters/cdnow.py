"""CDNOW purchases: ``CDNOW_master.txt`` (and the ``CDNOW_sample.txt`` layout).

Both are whitespace separated with ``yyyymmdd`` dates. The master file has a header and
four fields (``customer_id date number_of_cds dollar_value``); the 1/10 sample has no
header and five (``id id2 yyyymmdd cds dollars``, where ``id`` is the master's customer
id). The layout is told from the first line.

Each line becomes one order (``order_id`` = its line number after the header, ``revenue``
= dollars) with one order line (``quantity`` = CDs, ``price`` = dollars / CDs, and
``product_id`` 'cd': the data names no products). Customers come from their first
purchase, which is also their ``signup_ts``: the cohort is defined by first purchase.
:func:`read_cdnow` gives the purchases themselves, typed, for benchmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from features.config import DatasetMapping, LoadersParams
from features.errors import ContractError
from features.io.sources import default_file

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

MASTER = "CDNOW_master.txt"
DATE_FORMAT = "%Y%m%d"
# field positions (1-based) of customer, date, CDs and dollars in each layout
_LAYOUTS = {"master": (1, 2, 3, 4), "sample": (1, 3, 4, 5)}


def layout(path: Path) -> str:
    """``master`` (header, 4 fields) or ``sample`` (no header, 5 fields)."""
    with path.open(encoding="utf-8", errors="replace") as f:
        first = f.readline().split()
    if first[:1] == ["customer_id"]:
        return "master"
    if len(first) == 5:
        return "sample"
    raise ContractError(
        f"{path}: not a CDNOW file: the first line has {len(first)} fields; expected the "
        "master header 'customer_id date number_of_cds dollar_value' or 5 sample fields"
    )


def _sources(path: Path, *, strict: bool = False) -> dict[str, dict]:
    kind = layout(path)
    fields = 4 if kind == "master" else 5
    cust, date, cds, dollars = _LAYOUTS[kind]
    raw = {
        "file": str(path),
        "format": "csv",
        # one text column per line, split below: the fields are padded with runs of spaces
        "options": {
            "header": False,
            "skip": 1 if kind == "master" else 0,
            "delim": "|",
            "quote": "",
            "escape": "",
            "columns": {"line": "VARCHAR"},
        },
        "checks": {"line": f"len(regexp_split_to_array(trim(line), '\\s+')) = {fields}"},
    }
    split = f"""
        SELECT f[{cust}] AS customer_id, f[{date}] AS purchase_date, f[{cds}] AS cds,
            f[{dollars}] AS dollars, _row, _source
        FROM (SELECT *, regexp_split_to_array(trim(line), '\\s+') AS f FROM {{raw}})
    """
    purchases: dict = {"sql": split}
    if strict:  # for read_cdnow: no validator downstream, so refuse what does not parse
        purchases["checks"] = {
            "purchase_date": f"try_strptime(purchase_date, '{DATE_FORMAT}') IS NOT NULL",
            "cds": "TRY_CAST(cds AS BIGINT) >= 0",
            "dollars": "TRY_CAST(dollars AS DOUBLE) >= 0",
        }
    return {"raw": raw, "purchases": purchases}


def mapping(path: Path, loaders: LoadersParams) -> DatasetMapping:
    """The mapping for a CDNOW file, or the folder holding ``CDNOW_master.txt``."""
    line_key = "CAST(_row AS VARCHAR)"
    return DatasetMapping.model_validate(
        {
            "description": "CDNOW purchases (one order and one order line per line)",
            "sources": _sources(default_file(path, MASTER)),
            "tables": {
                "customers": {
                    "source": "purchases",
                    "group_by": ["customer_id"],
                    # yyyymmdd sorts as text, so min() is the first purchase date
                    "columns": {"customer_id": "customer_id", "signup_ts": "min(purchase_date)"},
                    "formats": {"signup_ts": DATE_FORMAT},
                },
                "orders": {
                    "source": "purchases",
                    "columns": {
                        "order_id": line_key,
                        "customer_id": "customer_id",
                        "ts": "purchase_date",
                        "revenue": "dollars",
                    },
                    "formats": {"ts": DATE_FORMAT},
                },
                "order_lines": {
                    "source": "purchases",
                    "columns": {
                        "line_id": line_key,
                        "order_id": line_key,
                        "product_id": "'cd'",
                        "price": "TRY_CAST(dollars AS DOUBLE) / nullif(TRY_CAST(cds AS BIGINT), 0)",
                        "quantity": "cds",
                    },
                },
            },
        }
    )


def read_cdnow(con: BaseBackend, path: Path) -> ir.Table:
    """The purchases in a CDNOW file (either layout), typed, one row per line.

    Columns: ``customer_id`` (string), ``date`` (date), ``number_of_cds`` (int64),
    ``dollar_value`` (float64), ``_row``, ``_source``. A value that does not parse is an
    error naming its line.
    """
    from features.io.mapping import stage_mapping

    spec = DatasetMapping.model_validate(
        {"sources": _sources(default_file(path, MASTER), strict=True), "tables": {}}
    )
    purchases = stage_mapping(con, spec, name="cdnow").sources["purchases"].expr
    typed = purchases.select(
        customer_id=purchases.customer_id,
        date=purchases.purchase_date.as_date(DATE_FORMAT),
        number_of_cds=purchases.cds.cast("int64"),
        dollar_value=purchases.dollars.cast("float64"),
        _row=purchases._row,
        _source=purchases._source,
    )
    return typed
