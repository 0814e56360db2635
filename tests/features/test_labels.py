"""Labels look at [cutoff, cutoff + horizon): an event at the cutoff is a label event."""

import datetime as dt

import pytest

from features.labels import (
    LabelWindowError,
    make_churn_labels,
    make_fit_labels,
    make_revenue_labels,
    make_time_to_churn_labels,
    observation_end,
)

CUTOFF = dt.datetime(2024, 7, 1)
D = dt.datetime
END = CUTOFF + dt.timedelta(days=30)


def order(oid, customer, ts, revenue=10.0, refund=False):
    return {
        "order_id": oid,
        "customer_id": customer,
        "ts": ts,
        "revenue": revenue,
        "is_refund": refund,
    }


def sub(sid, customer, start, end=None, plan="Monthly"):
    return {
        "subscription_id": sid,
        "customer_id": customer,
        "plan": plan,
        "start_ts": start,
        "end_ts": end,
    }


@pytest.fixture
def tables(make_tables):
    return make_tables(
        customers=[{"customer_id": c, "signup_ts": D(2024, 1, 1)} for c in "abcdefg"]
        + [{"customer_id": "late", "signup_ts": CUTOFF}],
        orders=[
            order("o1", "a", CUTOFF, 50.0),  # exactly at the cutoff: counts
            order("o2", "a", D(2024, 7, 10), 30.0),
            order("r1", "a", D(2024, 7, 12), -20.0, refund=True),
            order("o3", "b", END, 99.0),  # exactly at the horizon's end: does not count
            order("r2", "c", D(2024, 7, 5), -15.0, refund=True),  # a refund is no order
            order("o4", "d", D(2024, 6, 30), 5.0),  # before the cutoff
            order("o5", "late", D(2024, 7, 2)),
        ],
        subscriptions=[
            sub("s1", "a", D(2024, 1, 1), D(2024, 7, 10)),  # lapses
            sub("s2", "b", D(2024, 1, 1), D(2024, 7, 10)),  # changes plan the next day
            sub("s3", "b", D(2024, 7, 11), None, plan="Annual"),
            sub("s4", "c", D(2024, 1, 1), None),  # stays
            sub("s5", "d", D(2024, 1, 1), D(2024, 6, 1)),  # ended before: not at risk
            sub("s6", "e", D(2024, 1, 1), CUTOFF),  # ends at the cutoff: lapses at it
            sub("s7", "f", D(2024, 1, 1), END),  # ends at the horizon's end: not in it
            sub("s8", "g", D(2024, 1, 1), D(2024, 7, 20)),  # lapses, returns within horizon
            sub("s9", "g", D(2024, 7, 25), None),
        ],
    )


def test_inactivity_churn_counts_an_order_at_the_cutoff_and_not_at_the_end(tables, run):
    df = run(
        make_churn_labels(
            tables, CUTOFF, definition="inactivity", horizon_days=30, lapse_grace_days=1
        )
    )
    assert df.churned.to_dict() == {
        "a": 0,
        "b": 1,
        "c": 1,
        "d": 1,
        "e": 1,
        "f": 1,
        "g": 1,
    }


def test_cancellation_churn_is_a_lapse_of_a_membership_active_at_the_cutoff(tables, run):
    df = run(
        make_churn_labels(
            tables, CUTOFF, definition="cancellation", horizon_days=30, lapse_grace_days=1
        )
    )
    assert df.churned.to_dict() == {"a": 1, "b": 0, "c": 0, "e": 1, "f": 0, "g": 1}


def test_time_to_churn_by_inactivity_is_time_to_the_next_sale(tables, run):
    df = run(
        make_time_to_churn_labels(
            tables,
            CUTOFF,
            definition="inactivity",
            max_days=30,
            lapse_grace_days=1,
            observed_until=D(2024, 12, 31),
        )
    )
    assert df.loc["a"].to_dict() == {"duration_days": 0.0, "event": 1}
    assert df.loc["b"].to_dict() == {"duration_days": 30.0, "event": 0}  # censored
    assert df.loc["c"].to_dict() == {"duration_days": 30.0, "event": 0}


def test_time_to_churn_by_cancellation_is_time_to_the_first_lapse(tables, run):
    df = run(
        make_time_to_churn_labels(
            tables,
            CUTOFF,
            definition="cancellation",
            max_days=365,
            lapse_grace_days=1,
            observed_until=D(2024, 8, 1),  # censors at 31 days
        )
    )
    assert df.to_dict("index") == {
        "a": {"duration_days": 9.0, "event": 1},
        "b": {"duration_days": 31.0, "event": 0},
        "c": {"duration_days": 31.0, "event": 0},
        "e": {"duration_days": 0.0, "event": 1},
        "f": {"duration_days": 30.0, "event": 1},
        "g": {"duration_days": 19.0, "event": 1},
    }


def test_revenue_labels_are_net_of_refunds_in_the_window(tables, run):
    df = run(make_revenue_labels(tables, CUTOFF, horizon_days=30))
    assert df.loc["a"].to_dict() == {"future_revenue": 60.0, "future_orders": 2}
    assert df.loc["b"].to_dict() == {"future_revenue": 0.0, "future_orders": 0}
    assert df.loc["c"].to_dict() == {"future_revenue": -15.0, "future_orders": 0}
    assert "late" not in df.index


def test_a_window_past_the_end_of_the_data_is_an_error(tables):
    until = observation_end(tables)
    assert until == D(2024, 8, 1)  # midnight after the last timestamp (2024-07-31)
    with pytest.raises(LabelWindowError, match="latest complete cutoff is 2024-05-03 00:00"):
        make_churn_labels(
            tables,
            CUTOFF,
            definition="inactivity",
            horizon_days=90,
            lapse_grace_days=1,
            observed_until=until,
        )


def test_unknown_churn_definition_lists_the_valid_ones(tables):
    with pytest.raises(Exception, match="Did you mean 'inactivity'"):
        make_churn_labels(
            tables, CUTOFF, definition="inactive", horizon_days=30, lapse_grace_days=1
        )


def test_fit_labels_from_returns_then_feedback_then_kept(make_tables, run):
    def line(lid, oid, feedback=None, quantity=1):
        return {
            "line_id": lid,
            "order_id": oid,
            "size": "34C",
            "band": 34,
            "cup": "C",
            "quantity": quantity,
            "fit_feedback": feedback,
        }

    def ret(rid, lid, ts, reason):
        return {"return_id": rid, "line_id": lid, "ts": ts, "reason": reason}

    tables = make_tables(
        customers=[{"customer_id": "a", "signup_ts": D(2023, 1, 1)}],
        orders=[
            order("o1", "a", D(2024, 6, 1)),
            order("o0", "a", D(2023, 6, 1)),  # before the 365-day window
            order("r1", "a", D(2024, 6, 2), refund=True),
            order("o2", "a", CUTOFF),  # at the cutoff: not before it
        ],
        order_lines=[
            line("l1", "o1", feedback="fit"),  # returned too small after the cutoff
            line("l2", "o1"),  # style return, then a later fit return
            line("l3", "o1"),  # returned for style only
            line("l4", "o1", feedback="too_large"),
            line("l5", "o1", feedback="fit"),
            line("l6", "o1"),  # returned too late to count
            line("l7", "o1"),
            line("l8", "o0"),
            line("l9", "r1", quantity=-1),
            line("l10", "o2"),
        ],
        returns=[
            ret("x1", "l1", D(2024, 7, 5), "too_small"),
            ret("x2", "l2", D(2024, 6, 5), "style"),
            ret("x3", "l2", D(2024, 6, 9), "too_large"),
            ret("x4", "l3", D(2024, 6, 6), "quality"),
            ret("x5", "l6", D(2024, 7, 31), "too_small"),  # 60 days after the order
        ],
    )
    df = run(
        make_fit_labels(tables, CUTOFF, window_days=365, return_days=60),
        key="line_id",
    )
    assert df[["fit", "fit_source"]].to_dict("index") == {
        "l1": {"fit": "too_small", "fit_source": "return"},
        "l2": {"fit": "too_large", "fit_source": "return"},
        "l3": {"fit": None, "fit_source": "return_other"},
        "l4": {"fit": "too_large", "fit_source": "feedback"},
        "l5": {"fit": "kept", "fit_source": "feedback"},
        "l6": {"fit": "kept", "fit_source": "kept"},
        "l7": {"fit": "kept", "fit_source": "kept"},
    }
    assert df.loc["l1", "customer_id"] == "a" and df.loc["l1", "band"] == 34
