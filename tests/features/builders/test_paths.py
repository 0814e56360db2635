"""Journey-path features on two literal sessions, with every count worked out by hand."""

import datetime as dt
import math

import pytest

from features.builders.paths import build_paths, reasons, top_transitions

CUTOFF = dt.datetime(2024, 7, 1)
D = dt.datetime
OPTIONS = {
    "window_days": 90,
    "early_events": 2,
    "pages": {"pricing": ["pricing"], "size_guide": ["size_guide"], "checkout": ["checkout"]},
    "early_pages": ["pricing"],
    "transitions": [("product", "size_guide"), ("cart", "checkout")],
}


def session(sid, start, steps, customer="a"):
    return [
        {
            "session_id": sid,
            "seq": i + 1,
            "customer_id": customer,
            "ts": start + dt.timedelta(minutes=i),
            "event_type": event_type,
            "page": page,
        }
        for i, (event_type, page) in enumerate(steps)
    ]


def tables(make_tables):
    pv = "page_view"
    return make_tables(
        customers=[
            {"customer_id": "a", "signup_ts": D(2024, 1, 1)},
            {"customer_id": "b", "signup_ts": D(2024, 1, 1)},
        ],
        events=session(
            "s1",
            D(2024, 6, 1),
            [
                (pv, "home"),
                (pv, "Pricing"),  # seq 2: early
                (pv, "product"),
                (pv, "Size Guide"),
                (pv, "product"),
                ("add_to_cart", "cart"),
                ("checkout", "checkout"),
                ("purchase", None),
            ],
        )
        + session(
            "s2",
            D(2024, 6, 10),
            [
                (pv, "product"),
                ("search", None),
                (pv, "size-guide"),
                (pv, "pricing"),  # seq 4: not early
                (pv, "checkout"),  # no purchase after: abandoned
            ],
        )
        + session("s3", D(2024, 3, 1), [(pv, "pricing")])  # before the 90-day window
        + session("s4", CUTOFF, [(pv, "pricing"), (pv, "checkout")]),  # at the cutoff
    )


def test_path_features_of_two_sessions(make_tables, run):
    a = run(build_paths(tables(make_tables), CUTOFF, **OPTIONS)).loc["a"].to_dict()
    assert a == pytest.approx(
        {
            "pricing_views_90d": 2.0,
            "size_guide_views_90d": 2.0,
            "checkout_views_90d": 2.0,
            "early_pricing_sessions_90d": 1.0,
            "key_pages_seen_90d": 3.0,
            "path_length_mean_90d": 6.5,
            "path_length_max_90d": 8.0,
            "checkout_sessions_90d": 2.0,
            "abandoned_checkouts_90d": 1.0,
            # in s2 the page-less search sits between product and size guide
            "product_to_size_guide_90d": 1.0,
            "cart_to_checkout_90d": 1.0,
        }
    )


def test_customers_without_visits_get_zeros_and_null_lengths(make_tables, run):
    b = run(build_paths(tables(make_tables), CUTOFF, **OPTIONS)).loc["b"]
    assert math.isnan(b.path_length_mean_90d) and math.isnan(b.path_length_max_90d)
    assert (b.drop(["path_length_mean_90d", "path_length_max_90d"]) == 0).all()


def test_top_transitions_ranks_and_breaks_ties_by_name(make_tables, run):
    t = tables(make_tables)
    extra = session("s5", D(2024, 6, 20), [("page_view", "pricing"), ("page_view", "checkout")])
    t["events"] = t["events"].union(make_tables(events=extra)["events"])
    top = run(top_transitions(t, CUTOFF, window_days=90, n=3), key=None)
    assert top.to_dict("records") == [
        {"from_page": "pricing", "to_page": "checkout", "transitions": 2, "customers": 1},
        {"from_page": "cart", "to_page": "checkout", "transitions": 1, "customers": 1},
        {"from_page": "home", "to_page": "pricing", "transitions": 1, "customers": 1},
    ]


def test_every_feature_has_a_reason(make_tables, run):
    df = run(build_paths(tables(make_tables), CUTOFF, **OPTIONS))
    assert list(df.columns) == list(reasons(**OPTIONS))
