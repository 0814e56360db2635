"""Journeys: session order, collapsing repeats, the session rule and plans."""

import pytest

from features.analytics.journeys import assign_plans, build_journeys
from features.errors import EmptyResultError, UnknownValueError


def paths(journeys) -> dict[str, list[str]]:
    df = journeys.order_by(["customer_id", "step"]).to_pandas()
    return {c: g.page.tolist() for c, g in df.groupby("customer_id")}


def test_sessions_join_in_time_order_and_repeats_collapse_across_sessions(page_events):
    events = page_events({"a": [["Home", "Home", "Login"], ["Login", "Pricing"]], "b": [["X"]]})
    journeys = build_journeys(events)
    assert paths(journeys) == {"a": ["Home", "Login", "Pricing"], "b": ["X"]}
    df = journeys.order_by(["customer_id", "step"]).to_pandas()
    assert df.step.tolist() == [0, 1, 2, 0]
    assert df.journey_length.tolist() == [3, 3, 3, 1]
    assert df.session_id.tolist() == ["a-s0", "a-s0", "a-s1", "b-s0"]


def test_sessions_order_by_first_ts_not_by_id_and_events_by_ts_then_seq(canonical):
    rows = [
        # session "a" starts later than session "z"
        {"session_id": "a", "seq": 1, "ts": "2024-01-02 10:00", "page": "Second"},
        {"session_id": "z", "seq": 2, "ts": "2024-01-01 10:00", "page": "B"},
        {"session_id": "z", "seq": 1, "ts": "2024-01-01 10:00", "page": "A"},
        {"session_id": "z", "seq": 0, "ts": "2024-01-01 10:05", "page": "C"},
    ]
    events = canonical(
        "events", [{**r, "customer_id": "c", "event_type": "page_view"} for r in rows]
    )
    assert paths(build_journeys(events)) == {"c": ["A", "B", "C", "Second"]}


def test_events_without_a_page_are_not_steps_and_do_not_split_a_repeat(page_events):
    events = page_events({"a": [["Home", None, "Home", "Cart"]]})
    assert paths(build_journeys(events)) == {"a": ["Home", "Cart"]}


def test_until_target_keeps_sessions_up_to_the_first_that_reaches_the_target(page_events):
    events = page_events(
        {
            "a": [["Home", "Pricing"], ["Login", "Checkout", "Home"], ["Blog"]],
            "b": [["Home"], ["Blog"]],  # never converts: keeps everything
        }
    )
    journeys = build_journeys(events, session_rule="until_target", target_page="Checkout")
    assert paths(journeys) == {
        "a": ["Home", "Pricing", "Login", "Checkout", "Home"],
        "b": ["Home", "Blog"],
    }
    assert paths(build_journeys(events))["a"][-1] == "Blog"


def test_unknown_rule_or_target_lists_the_valid_values(page_events):
    events = page_events({"a": [["Home", "Checkout"]]})
    with pytest.raises(UnknownValueError, match=r"'Checkot'.*Did you mean 'Checkout'.*Home"):
        build_journeys(events, session_rule="until_target", target_page="Checkot")
    with pytest.raises(UnknownValueError, match=r"session rule 'first'.*all, until_target"):
        build_journeys(events, session_rule="first")


def test_no_page_events_is_an_error(page_events):
    with pytest.raises(EmptyResultError, match="no event has a page"):
        build_journeys(page_events({"a": [[None, None]]}))


def test_building_journeys_writes_nothing_and_leaves_events_as_they_were(con, page_events):
    events = page_events({"a": [["Home", "Home"]]})
    before = events.to_pandas()
    tables = set(con.list_tables())
    build_journeys(events, session_rule="until_target", target_page="Home").to_pandas()
    assert set(con.list_tables()) == tables
    assert events.to_pandas().equals(before)


def test_plan_is_the_first_or_latest_subscription(canonical):
    subs = canonical(
        "subscriptions",
        [
            {
                "subscription_id": "s2",
                "customer_id": "a",
                "plan": "Annual",
                "start_ts": "2024-03-01",
            },
            {
                "subscription_id": "s1",
                "customer_id": "a",
                "plan": "Monthly",
                "start_ts": "2024-01-01",
            },
            {"subscription_id": "s3", "customer_id": "b", "plan": "Y", "start_ts": "2024-01-01"},
            {"subscription_id": "s4", "customer_id": "b", "plan": "Z", "start_ts": "2024-01-01"},
        ],
    )
    first = assign_plans(subs).order_by("customer_id").to_pandas()
    latest = assign_plans(subs, rule="latest").order_by("customer_id").to_pandas()
    assert dict(zip(first.customer_id, first.plan, strict=True)) == {"a": "Monthly", "b": "Y"}
    assert dict(zip(latest.customer_id, latest.plan, strict=True)) == {"a": "Annual", "b": "Z"}
    with pytest.raises(UnknownValueError, match="plan rule 'last'"):
        assign_plans(subs, rule="last")
