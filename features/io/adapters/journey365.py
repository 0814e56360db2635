"""The 365 Data Science user-journey export: ``user_id,session_id,subscription_type,user_journey``.

- Each session's ``user_journey`` (pages joined by ``-``) becomes one ``page_view`` event
  per page, ``seq`` 1, 2, ... in the order written, repeated pages kept. A blank page
  name (an empty journey, or ``--``) becomes an ``other`` event with no page, so that no
  session disappears.
- Each user becomes a customer, and each (user, plan) a subscription keyed by the user:
  a user with two plans is quarantined as a duplicate key rather than silently merged.
- The export has no timestamps. Times are synthesized for ordering only, from
  ``loaders.journey365_anchor``: the session on file row k starts k - 1 hours after the
  anchor and its pages are one second apart, so time order is file order (in this export
  session ids rise with file order and each user's sessions are contiguous). A
  customer's ``signup_ts`` and subscription ``start_ts`` are their first session's time.
  Durations and calendar features computed from these times mean nothing.
"""

from __future__ import annotations

from pathlib import Path

from features.config import DatasetMapping, LoadersParams
from features.io.sources import default_file, literal

FILE = "user_journey_raw.csv"


def mapping(path: Path, loaders: LoadersParams) -> DatasetMapping:
    """The mapping for ``path`` (the CSV, or the folder holding ``user_journey_raw.csv``)."""
    anchor = f"TIMESTAMP {literal(loaders.journey365_anchor.isoformat(sep=' '))}"
    first_session = f"{anchor} + to_hours(min(_row) - 1)"
    pages = """
        SELECT * EXCLUDE (pages), nullif(trim(pages[seq]), '') AS page
        FROM (
            SELECT *, unnest(generate_series(1, len(pages))) AS seq
            FROM (
                SELECT *, string_split(coalesce(user_journey, ''), '-') AS pages
                FROM {journeys}
            )
        )
    """
    return DatasetMapping.model_validate(
        {
            "description": "365 Data Science user journeys (no timestamps; see module doc)",
            "sources": {
                "journeys": {"file": str(default_file(path, FILE))},
                "pages": {"sql": pages},
            },
            "tables": {
                "customers": {
                    "source": "journeys",
                    "group_by": ["user_id"],
                    "columns": {"customer_id": "user_id", "signup_ts": first_session},
                },
                "events": {
                    "source": "pages",
                    "columns": {
                        "session_id": "session_id",
                        "seq": "seq",
                        "customer_id": "user_id",
                        "ts": f"{anchor} + to_hours(_row - 1) + to_seconds(seq - 1)",
                        "event_type": "CASE WHEN page IS NULL THEN 'other' ELSE 'page_view' END",
                        "page": "page",
                    },
                },
                "subscriptions": {
                    "source": "journeys",
                    "group_by": ["user_id", "subscription_type"],
                    "columns": {
                        "subscription_id": "user_id",
                        "customer_id": "user_id",
                        "plan": "subscription_type",
                        "start_ts": first_session,
                    },
                },
            },
        }
    )
