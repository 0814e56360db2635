"""Re-check what the warehouse already holds with the same validator that guards loads."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ibis

from features.contract.validate import ROW, SOURCE, Staged, ValidationResult, validate
from features.io.warehouse import canonical_tables

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


def check_warehouse(con: BaseBackend, *, now: dt.datetime) -> ValidationResult:
    """Validate every canonical table in ``con`` as it is now; nothing is written.

    Rows are numbered in the order the warehouse returns them (``_row``), and their
    source is ``warehouse.<table>``; a violation's reason and record name the row's key.
    Timestamps after ``now`` count as in the future.
    """
    tables = canonical_tables(con)
    staged = {
        name: Staged(
            name,
            t.mutate(**{ROW: ibis.row_number() + 1, SOURCE: ibis.literal(f"warehouse.{name}")}),
            f"warehouse.{name}",
        )
        for name, t in tables.items()
    }
    return validate(con, staged, now=now, load_id=f"check-{now:%Y%m%dT%H%M%S}", existing=tables)
