"""Engagement features on literal events, with a cutoff at noon to pin the day blocks."""

import datetime as dt
import math

import pytest

from features.builders.engagement import build_engagement, reasons

CUTOFF = dt.datetime(2024, 7, 1, 12)
D = dt.datetime
WINDOWS = [7, 30, 90, 365]


def ev(session, seq, ts, event_type="page_view", customer="a"):
    return {
        "session_id": session,
        "seq": seq,
        "customer_id": customer,
        "ts": ts,
        "event_type": event_type,
    }


def build(make_tables, run):
    tables = make_tables(
        customers=[
            {"customer_id": "a", "signup_ts": D(2023, 1, 1)},
            {"customer_id": "b", "signup_ts": D(2024, 1, 1)},
        ],
        events=[
            ev("s1", 1, D(2024, 7, 1, 11)),
            ev("s1", 2, D(2024, 7, 1, 11, 30), "search"),
            ev("s1", 3, CUTOFF),  # at the cutoff: the future
            ev("s2", 1, D(2024, 6, 30, 11, 59, 59), "add_to_cart"),  # day block 2
            ev("s2", 2, D(2024, 6, 30, 12)),  # exactly 24h back: day block 1
            ev("s3", 1, D(2024, 6, 24, 12)),  # exactly 7 days back: inside 7d
            ev("s4", 1, D(2024, 5, 1)),  # day block 62
            ev("s5", 1, D(2023, 6, 1)),  # day block 397
        ],
    )
    return run(build_engagement(tables, CUTOFF, windows_days=WINDOWS))


def test_engagement_counts_sessions_page_views_and_day_blocks(make_tables, run):
    a = build(make_tables, run).loc["a"].to_dict()
    assert a == pytest.approx(
        {
            "sessions_lifetime": 5.0,
            "days_since_last_visit": 0.5 / 24,
            "sessions_7d": 3.0,
            "page_views_7d": 3.0,
            "active_days_7d": 3.0,
            "sessions_30d": 3.0,
            "page_views_30d": 3.0,
            "active_days_30d": 3.0,
            "sessions_90d": 4.0,
            "page_views_90d": 4.0,
            "active_days_90d": 4.0,
            "sessions_365d": 4.0,
            "page_views_365d": 4.0,
            "active_days_365d": 4.0,
        }
    )


def test_customers_without_events_get_zeros(make_tables, run):
    b = build(make_tables, run).loc["b"]
    assert math.isnan(b.days_since_last_visit)
    assert (b.drop("days_since_last_visit") == 0).all()


def test_every_feature_has_a_reason(make_tables, run):
    df = build(make_tables, run)
    r = reasons(windows_days=WINDOWS)
    assert list(df.columns) == list(r)
    assert r["days_since_last_visit"].format(value=41.6) == "no visit in 42 days"
