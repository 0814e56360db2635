"""Shared pieces of the feature builders: the population, time arithmetic and joins.

Everything here builds portable Ibis expressions (DuckDB now, PySpark later): no raw
SQL, no UDFs. Time differences go through whole epoch seconds because both engines
agree on those (DuckDB's ``epoch`` keeps fractions, Spark's ``unix_timestamp`` does not,
so fractions are floored away on both).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis

from features.errors import JourneyError, unknown_name_message

if TYPE_CHECKING:
    import ibis.expr.types as ir

DAY_S = 86_400.0
KEY = "customer_id"


def as_cutoff(cutoff: dt.datetime | dt.date | str) -> dt.datetime:
    """A naive UTC datetime from a datetime, a date (midnight) or an ISO string."""
    if isinstance(cutoff, str):
        try:
            cutoff = dt.datetime.fromisoformat(cutoff)
        except ValueError:
            raise JourneyError(
                f"cutoff {cutoff!r} is not an ISO date or datetime (e.g. 2025-06-01)"
            ) from None
    if isinstance(cutoff, dt.datetime):
        if cutoff.tzinfo is not None:
            cutoff = cutoff.astimezone(dt.UTC).replace(tzinfo=None)
        return cutoff
    if isinstance(cutoff, dt.date):
        return dt.datetime(cutoff.year, cutoff.month, cutoff.day)
    raise JourneyError(f"cutoff must be a date or datetime, got {type(cutoff).__name__}")


def epoch_s(cutoff: dt.datetime) -> float:
    """Whole epoch seconds of a naive UTC datetime, floored like :func:`ts_epoch_s`."""
    return float(calendar.timegm(cutoff.timetuple()))


def ts_epoch_s(ts: ir.TimestampValue) -> ir.FloatingValue:
    """Whole epoch seconds of a timestamp column, as float64."""
    return ts.epoch_seconds().cast("float64").floor().cast("float64")


def days_before(ts: ir.TimestampValue, cutoff: dt.datetime) -> ir.FloatingValue:
    """Days (float) from ``ts`` to the cutoff; positive for ``ts < cutoff``."""
    return (ibis.literal(epoch_s(cutoff)) - ts_epoch_s(ts)) / DAY_S


def day_index(ts: ir.TimestampValue, cutoff: dt.datetime) -> ir.IntegerValue:
    """1 for the 24 hours before the cutoff, 2 for the 24 hours before those, ...

    ``ts`` lies in the window ``[cutoff - w days, cutoff)`` exactly when
    ``day_index <= w``, for any cutoff time of day.
    """
    return days_before(ts, cutoff).ceil()


def require(tables: Mapping[str, ir.Table], *names: str) -> list[ir.Table]:
    """The named canonical tables; a missing one is an error listing what is there."""
    out = []
    for name in names:
        if name not in tables:
            raise JourneyError(unknown_name_message("input table", name, tables))
        out.append(tables[name])
    return out


def population(tables: Mapping[str, ir.Table], cutoff: dt.datetime) -> ir.Table:
    """Customers who signed up before the cutoff: ``customer_id``, ``signup_ts``."""
    (customers,) = require(tables, "customers")
    return customers.filter(customers.signup_ts < cutoff).select(KEY, "signup_ts")


def sales(orders: ir.Table) -> ir.BooleanValue:
    """Orders that are sales, not refunds (a null ``is_refund`` is a sale)."""
    return ~orders.is_refund.fill_null(False)


def attach(base: ir.Table, *parts: ir.Table, fill: Mapping[str, object] | None = None) -> ir.Table:
    """Left-join per-customer tables onto ``base`` in one flat join; ``fill`` replaces nulls.

    Every part is keyed by ``customer_id``; their other column names must be distinct.
    """
    joined = base
    keys = []
    for i, part in enumerate(parts):
        key = f"__key{i}"
        part = part.rename({key: KEY})
        joined = joined.left_join(part, base[KEY] == part[key])
        keys.append(key)
    fill = dict(fill or {})
    return joined.select(
        **{
            c: joined[c].fill_null(fill[c]) if c in fill else joined[c]
            for c in joined.columns
            if c not in keys
        }
    )


def f64(value: ir.NumericValue) -> ir.FloatingValue:
    return value.cast("float64")


def safe_ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """``num / den`` as float64, null when ``den`` is zero or null."""
    return ibis.ifelse(den > 0, f64(num) / f64(den), ibis.null("float64"))


def page_key(page: ir.StringValue) -> ir.StringValue:
    """A page name normalized like ``features.config.normalize_page``."""
    return page.strip().lower().replace(" ", "_").replace("-", "_")


def window_names(stem: str, windows_days: Sequence[int]) -> list[str]:
    return [f"{stem}_{w}d" for w in windows_days]
