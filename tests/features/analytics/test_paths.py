"""Path statistics on three small journeys whose figures are worked out by hand.

a: Home, Login, Home, Login, Checkout   (plan Annual)
b: Home, Pricing, Checkout              (plan Monthly)
c: Login                                (no subscription)
"""

import pytest

from features.analytics.journeys import assign_plans, build_journeys
from features.analytics.paths import (
    count_funnel,
    count_ngrams,
    count_page_presence,
    count_pages,
    count_transitions,
    measure_page_positions,
    summarize_journeys,
)
from features.errors import EmptyResultError, UnknownValueError


@pytest.fixture
def journeys(page_events):
    return build_journeys(
        page_events(
            {
                "a": [["Home", "Login"], ["Home", "Login", "Checkout"]],
                "b": [["Home", "Pricing", "Checkout"]],
                "c": [["Login"]],
            }
        )
    )


@pytest.fixture
def plans(canonical):
    return assign_plans(
        canonical(
            "subscriptions",
            [
                {
                    "subscription_id": "1",
                    "customer_id": "a",
                    "plan": "Annual",
                    "start_ts": "2024-01-01",
                },
                {
                    "subscription_id": "2",
                    "customer_id": "b",
                    "plan": "Monthly",
                    "start_ts": "2024-01-01",
                },
            ],
        )
    )


def rows(df, *cols):
    return [tuple(r) for r in df[list(cols)].itertuples(index=False)]


def test_summary(journeys):
    s = summarize_journeys(journeys)
    assert (s.n_journeys, s.n_pages, s.mean_journey_length) == (3, 9, 3.0)


def test_page_counts_count_every_occurrence(journeys):
    df = count_pages(journeys)
    assert rows(df, "page", "count") == [("Home", 3), ("Login", 3), ("Checkout", 2), ("Pricing", 1)]
    assert df.share.tolist() == pytest.approx([3 / 9, 3 / 9, 2 / 9, 1 / 9])


def test_page_presence_counts_journeys(journeys):
    df = count_page_presence(journeys)
    assert rows(df, "page", "journeys", "total_journeys") == [
        ("Checkout", 2, 3),
        ("Home", 2, 3),
        ("Login", 2, 3),
        ("Pricing", 1, 3),
    ]
    assert df.share.tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 1 / 3])


def test_presence_and_counts_by_plan_keep_customers_without_a_plan(journeys, plans):
    df = count_page_presence(journeys, by=plans, missing_label="(no plan)")
    assert rows(df, "plan", "page", "journeys", "total_journeys", "share") == [
        ("(no plan)", "Login", 1, 1, 1.0),
        ("Annual", "Checkout", 1, 1, 1.0),
        ("Annual", "Home", 1, 1, 1.0),
        ("Annual", "Login", 1, 1, 1.0),
        ("Monthly", "Checkout", 1, 1, 1.0),
        ("Monthly", "Home", 1, 1, 1.0),
        ("Monthly", "Pricing", 1, 1, 1.0),
    ]
    counts = count_pages(journeys, by=plans, missing_label="(no plan)")
    annual = counts[counts.plan == "Annual"]
    assert rows(annual, "page", "count") == [("Home", 2), ("Login", 2), ("Checkout", 1)]
    assert annual.share.tolist() == pytest.approx([0.4, 0.4, 0.2])
    assert counts["count"].sum() == 9  # every step is counted in some group


def test_a_grouping_table_needs_one_row_per_customer(journeys, canonical):
    subs = canonical(
        "subscriptions",
        [
            {"subscription_id": str(i), "customer_id": "a", "plan": p, "start_ts": "2024-01-01"}
            for i, p in enumerate(["X", "Y"])
        ],
    )
    with pytest.raises(ValueError, match="one row per customer"):
        count_page_presence(journeys, by=subs.select("customer_id", "plan"))


def test_transitions(journeys):
    df = count_transitions(journeys)
    assert rows(df, "page", "next_page", "count") == [
        ("Home", "Login", 2),
        ("Home", "Pricing", 1),
        ("Login", "Checkout", 1),
        ("Login", "Home", 1),
        ("Pricing", "Checkout", 1),
    ]
    assert df.share.tolist() == pytest.approx([2 / 3, 1 / 3, 0.5, 0.5, 1.0])
    home = count_transitions(journeys, from_page="Home")
    assert rows(home, "next_page", "count") == [("Login", 2), ("Pricing", 1)]
    with pytest.raises(UnknownValueError, match="'Hom'"):
        count_transitions(journeys, from_page="Hom")


def test_ngrams_once_per_journey_or_every_time(journeys):
    once = count_ngrams(journeys, n=2, once_per_journey=True)
    every = count_ngrams(journeys, n=2, once_per_journey=False)
    assert once.ngram.iloc[0] == ("Home", "Login")
    assert once["count"].iloc[0] == 1  # twice in a, counted once
    assert rows(every, "ngram", "count")[0] == (("Home", "Login"), 2)
    assert every["count"].sum() == 6 and once["count"].sum() == 5
    tri = count_ngrams(journeys, n=3, top=3)
    assert rows(tri, "ngram", "count") == [
        (("Home", "Login", "Checkout"), 1),
        (("Home", "Login", "Home"), 1),
        (("Home", "Pricing", "Checkout"), 1),
    ]
    with pytest.raises(EmptyResultError, match="no journey has 6 pages"):
        count_ngrams(journeys, n=6)


def test_page_positions(journeys):
    df = measure_page_positions(journeys).set_index("page")
    assert df.index[0] == "Home" and df.index[-1] == "Checkout"
    assert df.loc["Home", "mean_relative_position"] == pytest.approx((0.1 + 0.5 + 1 / 6) / 3)
    assert df.loc["Checkout", "mean_relative_position"] == pytest.approx((0.9 + 5 / 6) / 2)
    assert df.loc["Login", "mean_relative_position"] == pytest.approx(0.5)
    assert df.loc["Home", "mean_step"] == pytest.approx(5 / 3)
    assert df.loc["Home", ["first_share", "last_share"]].tolist() == pytest.approx([2 / 3, 0])
    assert df.loc["Login", ["first_share", "last_share"]].tolist() == pytest.approx([1 / 3, 1 / 3])
    assert df.loc["Checkout", "last_share"] == 1.0


def test_funnel_counts_pages_reached_in_order(journeys):
    df = count_funnel(journeys, ["Home", "Login", "Checkout"])
    assert rows(df, "step", "page", "journeys") == [
        (1, "Home", 2),
        (2, "Login", 1),
        (3, "Checkout", 1),
    ]
    assert df.share_of_journeys.tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    assert df.share_of_previous.tolist() == pytest.approx([2 / 3, 1 / 2, 1.0])
    # a page may repeat; each step must come strictly after the previous one
    again = count_funnel(journeys, ["Login", "Home", "Login", "Login"])
    assert again.journeys.tolist() == [2, 1, 1, 0]
    assert again.share_of_previous.iloc[-1] == 0.0
    with pytest.raises(UnknownValueError, match=r"'Cart'.*Valid: Checkout, Home, Login, Pricing"):
        count_funnel(journeys, ["Home", "Cart"])


def test_a_materialized_journeys_table_gives_the_same_figures(journeys, plans):
    cached = journeys.cache()
    for f in (count_pages, count_page_presence, count_transitions, measure_page_positions):
        assert f(cached).equals(f(journeys))
    assert count_page_presence(cached, by=plans).equals(count_page_presence(journeys, by=plans))
    assert count_ngrams(cached).equals(count_ngrams(journeys))
