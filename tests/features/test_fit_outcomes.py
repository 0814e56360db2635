import datetime as dt

import ibis
import pandas as pd
import pytest

from features.errors import EmptyResultError
from features.fit_outcomes import make_fit_outcomes, size_guide_orders, split_fit_outcomes

T = dt.datetime(2025, 1, 1)
CUTOFF = dt.datetime(2025, 3, 1)


def tables():
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "customer_id": ["a", "a", "b", "b"],
            "ts": [T, T + dt.timedelta(days=10), T + dt.timedelta(days=50), CUTOFF],
        }
    )
    lines = pd.DataFrame(
        [
            ("l1", "o1", "p1", "bra", "34C", 1, None),  # kept
            ("l2", "o1", "p2", "bra", "34B", 1, None),  # returned too small
            ("l3", "o2", "p3", "knickers", "M", 1, "too_large"),  # kept, says too large
            ("l4", "o2", "p1", "bra", "36C", 1, None),  # returned: style
            ("l5", "o2", "p1", "bra", "34C", -1, None),  # refund line
            ("l6", "o3", "p9", "gift", None, 1, None),  # no size
            ("l7", "o3", "p2", "bra", "32D", 1, None),  # returned too large at the cutoff
            ("l8", "o4", "p2", "bra", "32D", 1, None),  # ordered at the cutoff
        ],
        columns=[
            "line_id",
            "order_id",
            "product_id",
            "category",
            "size",
            "quantity",
            "fit_feedback",
        ],
    )
    returns = pd.DataFrame(
        {
            "return_id": ["r1", "r2", "r0", "r3"],
            "line_id": ["l2", "l4", "l2", "l7"],
            "ts": [
                T + dt.timedelta(days=5),
                T + dt.timedelta(days=20),
                T + dt.timedelta(days=5),
                CUTOFF,
            ],
            "reason": ["too_small", "style", "too_large", "too_large"],
        }
    )
    return {"orders": orders, "order_lines": lines, "returns": returns}


def test_outcomes_from_returns_feedback_and_kept_lines():
    out = make_fit_outcomes(tables(), CUTOFF)
    got = out.frame[["line_id", "fit", "source"]].to_dict("records")
    assert got == [
        {"line_id": "l1", "fit": "fit", "source": "kept"},
        # r0 and r1 are on the same day: the smaller return_id wins
        {"line_id": "l2", "fit": "too_large", "source": "return"},
        {"line_id": "l3", "fit": "too_large", "source": "feedback"},
        # its return is at the cutoff, so not known yet: kept as of the cutoff
        {"line_id": "l7", "fit": "fit", "source": "kept"},
    ]
    assert out.lines == 7  # l8's order is at the cutoff
    assert out.excluded == {"refund line": 1, "no size": 1, "returned for another reason": 1}
    assert out.lines == len(out.frame) + sum(out.excluded.values())
    assert out.frame["customer_id"].tolist() == ["a", "a", "a", "b"]


def test_lines_that_may_still_come_back_are_pending():
    out = make_fit_outcomes(tables(), CUTOFF, return_window_days=30)
    assert "l7" not in set(out.frame["line_id"])
    assert out.excluded["pending: may still be returned"] == 1


def test_events_at_or_after_the_cutoff_change_nothing():
    base = make_fit_outcomes(tables(), CUTOFF).frame
    more = tables()
    more["orders"].loc[len(more["orders"])] = ["o9", "a", CUTOFF + dt.timedelta(days=1)]
    more["returns"].loc[len(more["returns"])] = ["r9", "l1", CUTOFF, "too_small"]
    pd.testing.assert_frame_equal(make_fit_outcomes(more, CUTOFF).frame, base)


def test_no_known_outcome_is_an_error():
    with pytest.raises(EmptyResultError, match="no order line with a known fit"):
        make_fit_outcomes(tables(), T)


def test_split_trains_on_what_was_known_and_tests_on_the_window():
    end = CUTOFF + dt.timedelta(days=10)
    split = split_fit_outcomes(
        tables(), CUTOFF, end, observed_until=end + dt.timedelta(days=40), return_window_days=30
    )
    assert split.train.frame["line_id"].tolist() == ["l1", "l2", "l3"]  # l7 pending then
    assert split.test[["line_id", "fit", "source"]].to_dict("records") == [
        {"line_id": "l8", "fit": "fit", "source": "kept"}
    ]
    assert split.test_excluded == {"refund line": 1, "no size": 1, "returned for another reason": 1}


def test_split_needs_ordered_dates_and_test_lines():
    with pytest.raises(ValueError, match="test_start < test_end <= observed_until"):
        split_fit_outcomes(tables(), CUTOFF, CUTOFF, observed_until=CUTOFF, return_window_days=0)
    late = CUTOFF + dt.timedelta(days=1)
    with pytest.raises(EmptyResultError, match="ordered in"):
        split_fit_outcomes(
            tables(), late, late + dt.timedelta(days=1), observed_until=late + dt.timedelta(days=1),
            return_window_days=0,
        )  # fmt: skip


def test_size_guide_orders_flags_orders_whose_purchase_session_viewed_the_guide():
    at = dt.datetime(2025, 1, 1, 10)
    m = dt.timedelta(minutes=1)
    events = pd.DataFrame(
        {
            "session_id": ["s1", "s1", "s1", "s2", "s2", "s3", "s4"],
            "customer_id": ["a", "a", "a", "b", "b", "a", "b"],
            "ts": [at, at + m, at + 2 * m, at + 9 * m, at + 10 * m, at + 60 * m, at + 10 * m],
            "event_type": [
                "page_view", "page_view", "purchase", "page_view", "purchase", "page_view",
                "page_view",
            ],
            "page": ["product", "size_guide", "checkout", "product", "checkout", "size_guide",
                     "size_guide"],
        }
    )  # fmt: skip
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "customer_id": ["a", "b", "a"],
            # o1: guide viewed in its session; o2: the guide was viewed by b, but in another
            # session; o3: no purchase event (a guide view later that day does not count)
            "ts": [at + 2 * m, at + 10 * m, at + 120 * m],
        }
    )
    t = {"events": ibis.memtable(events), "orders": ibis.memtable(orders)}
    out = ibis.duckdb.connect().to_pandas(size_guide_orders(t)).sort_values("order_id")
    assert out["order_id"].tolist() == ["o1", "o2", "o3"]
    assert out["size_guide"].tolist() == [True, False, False]
    assert (
        not ibis.duckdb.connect().to_pandas(size_guide_orders(t, page="none"))["size_guide"].any()
    )
