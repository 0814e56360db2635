"""The DTC wellness sample: ``customers.csv``, ``orders.csv`` and ``web_sessions.csv``.

- customers: ``signup_date`` loads as midnight; ``channel`` and ``region`` as they are.
- orders: ``promo_used`` becomes ``promo_code`` (blank = none). ``is_first_order`` is not
  loaded: it is derivable from the orders themselves.
- web_sessions: a session with ``page_views`` = n becomes n ``page_view`` events
  (``seq`` 1..n, no page names: the export has none) with the session's ``source``; a
  converted session also gets a ``purchase`` event at ``seq`` n + 1. A session with 0 page
  views becomes a single event so that it is not lost: ``purchase`` if it converted,
  else ``other``. Every event's ``ts`` is the session date at midnight (the export has
  no time of day); events order by ``seq`` within it. ``page_views`` and ``converted``
  decide how many events a session makes, so a value that is not a whole number >= 0
  (or not a boolean) stops the load with its file, row and value.
"""

from __future__ import annotations

from pathlib import Path

from features.config import DatasetMapping, LoadersParams
from features.io.sources import default_file

FILES = ("customers.csv", "orders.csv", "web_sessions.csv")

_EVENTS = """
    SELECT * EXCLUDE (n, conv),
        CASE WHEN seq <= n THEN 'page_view' WHEN conv THEN 'purchase' ELSE 'other' END
            AS event_type
    FROM (
        SELECT *, unnest(generate_series(1, greatest(n + conv::INTEGER, 1))) AS seq
        FROM (
            SELECT *, CAST(page_views AS BIGINT) AS n, CAST(converted AS BOOLEAN) AS conv
            FROM {sessions}
        )
    )
"""


def mapping(path: Path, loaders: LoadersParams) -> DatasetMapping:
    """The mapping for the folder that holds the three DTC files."""
    if path.is_file():
        path = path.parent
    customers, orders, sessions = (str(default_file(path, f)) for f in FILES)
    return DatasetMapping.model_validate(
        {
            "description": "DTC wellness brand sample (customers, orders, web sessions)",
            "sources": {
                "customers": {"file": customers},
                "orders": {"file": orders},
                "sessions": {
                    "file": sessions,
                    "checks": {
                        "page_views": "TRY_CAST(page_views AS BIGINT) >= 0",
                        "converted": "TRY_CAST(converted AS BOOLEAN) IS NOT NULL",
                    },
                },
                "session_events": {"sql": _EVENTS},
            },
            "tables": {
                "customers": {
                    "source": "customers",
                    "columns": {
                        "customer_id": "customer_id",
                        "signup_ts": "signup_date",
                        "channel": "channel",
                        "region": "region",
                    },
                },
                "orders": {
                    "source": "orders",
                    "columns": {
                        "order_id": "order_id",
                        "customer_id": "customer_id",
                        "ts": "order_date",
                        "revenue": "revenue",
                        "promo_code": "promo_used",
                    },
                },
                "events": {
                    "source": "session_events",
                    "columns": {
                        "session_id": "session_id",
                        "seq": "seq",
                        "customer_id": "customer_id",
                        "ts": "session_date",
                        "event_type": "event_type",
                        "source": "source",
                    },
                },
            },
        }
    )
