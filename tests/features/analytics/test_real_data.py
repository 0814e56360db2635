"""The published figures of the two case studies, reproduced from data loaded by the adapters.

See ../shared/data/README.md for the figures and how their authors computed them.
"""

import pytest

from features.analytics import (
    assign_plans,
    build_journeys,
    compute_aov,
    compute_aov_by,
    compute_reorder_retention,
    count_converted_sessions,
    count_ngrams,
    count_page_presence,
    count_pages,
    count_promo_first_orders_never_reordered,
    count_transitions,
    share_first_order_within,
    sum_revenue_by,
    summarize_journeys,
)


@pytest.fixture
def tables_365(shared_data, real_dataset):
    report, tables = real_dataset("365", shared_data / "user_journey_365")
    assert report.reports["events"].quarantined == 0
    return tables


@pytest.fixture
def journeys_365(tables_365):
    return build_journeys(tables_365["events"])


@pytest.fixture
def tables_dtc(shared_data, real_dataset):
    report, tables = real_dataset("dtc", shared_data / "dtc_wellness")
    assert all(r.quarantined == 0 for r in report.reports.values())
    return tables


def test_365_size(journeys_365):
    s = summarize_journeys(journeys_365)
    assert (s.n_journeys, s.n_pages) == (1350, 14098)
    assert round(s.mean_journey_length, 5) == 10.44296


def test_365_page_presence_and_counts(journeys_365):
    presence = count_page_presence(journeys_365)
    assert dict(zip(presence.page, presence.journeys, strict=True)) == {
        "Homepage": 843,
        "Checkout": 821,
        "Log in": 756,
        "Sign up": 738,
        "Other": 623,
        "Coupon": 606,
        "Pricing": 476,
        "Courses": 453,
        "Career tracks": 380,
        "Career track certificate": 228,
        "Resources center": 184,
        "Course certificate": 151,
        "Upcoming courses": 83,
        "Success stories": 38,
        "Instructors": 25,
        "About us": 17,
        "Blog": 13,
    }
    counts = count_pages(journeys_365).set_index("page")["count"]
    published = {
        "Homepage": 2679,
        "Log in": 2234,
        "Checkout": 1351,
        "Sign up": 1247,
        "Pricing": 1053,
        "Resources center": 546,
    }
    assert {p: counts[p] for p in published} == published
    assert counts.index[:4].tolist() == ["Homepage", "Log in", "Checkout", "Sign up"]


def test_365_next_page_after_homepage(journeys_365):
    nxt = count_transitions(journeys_365, from_page="Homepage").head(4)
    assert list(zip(nxt.next_page, nxt["count"], strict=True)) == [
        ("Log in", 953),
        ("Pricing", 449),
        ("Career tracks", 357),
        ("Sign up", 341),
    ]


def test_365_top_trigrams_once_per_journey(journeys_365):
    top = count_ngrams(journeys_365, n=3, once_per_journey=True, top=4)
    assert list(zip(top.ngram, top["count"], strict=True)) == [
        (("Homepage", "Log in", "Checkout"), 239),
        (("Log in", "Homepage", "Log in"), 220),
        (("Homepage", "Log in", "Homepage"), 180),
        (("Sign up", "Log in", "Checkout"), 123),
    ]


def test_365_resources_center_share_by_plan(tables_365, journeys_365):
    plans = assign_plans(tables_365["subscriptions"])
    by_plan = count_page_presence(journeys_365, by=plans)
    rc = by_plan[by_plan.page == "Resources center"].set_index("plan")
    assert {p: (r.journeys, r.total_journeys) for p, r in rc.iterrows()} == {
        "Annual": (138, 931),
        "Monthly": (42, 376),
        "Quarterly": (4, 43),
    }
    assert [round(100 * s, 2) for s in rc.share] == [14.82, 11.17, 9.30]
    assert "(none)" not in set(by_plan.plan)  # every user has a plan


def test_dtc_revenue_and_aov(tables_dtc):
    orders, customers = tables_dtc["orders"], tables_dtc["customers"]
    assert round(sum_revenue_by(orders, customers).revenue.sum(), 2) == 41282.33
    assert round(compute_aov(orders), 2) == 103.21
    by_channel = compute_aov_by(orders, customers, by="channel")
    assert dict(zip(by_channel.channel, by_channel.aov.round(2), strict=True)) == {
        "social": 112.95,
        "organic": 104.20,
        "email": 101.79,
        "referral": 97.46,
        "paid_search": 96.21,
    }


def test_dtc_first_orders(tables_dtc):
    orders, customers = tables_dtc["orders"], tables_dtc["customers"]
    within = share_first_order_within(customers, orders, days=7, inclusive=True)
    assert (within.count, within.total) == (30, 100)
    promo = count_promo_first_orders_never_reordered(orders)
    assert (promo.count, promo.total, round(100 * promo.share, 2)) == (7, 81, 8.64)


def test_dtc_reorder_retention(tables_dtc):
    df = compute_reorder_retention(tables_dtc["orders"], days=[30, 60, 90], inclusive=False)
    assert list(zip(df.days, df.retained, df.customers, strict=True)) == [
        (30, 70, 98),
        (60, 90, 98),
        (90, 91, 98),
    ]
    assert [round(100 * s) for s in df.share] == [71, 92, 93]


def test_dtc_converted_sessions(tables_dtc):
    df = count_converted_sessions(tables_dtc["events"], conversion_event_types=["purchase"])
    assert (df.sessions.sum(), df.converted.sum()) == (600, 110)
    assert dict(zip(df.source, df.converted, strict=True)) == {
        "organic": 28,
        "referral": 25,
        "paid_search": 24,
        "email": 18,
        "social": 15,
    }
