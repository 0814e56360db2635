"""KPIs on five customers and eight orders whose figures are worked out by hand.

c1 social/US   signup 01-01; orders 01-08 100 (promo), 01-08 50, 03-01 30
c2 organic/UK  signup 01-01; order 01-09 200 (promo), refund 01-20 -50
c3 -/US        signup 01-10; orders 01-10 80 (promo), 02-09 40 (exactly 30 days later)
c4 organic/US  signup 02-01; never orders
c5 email/UK    signup 02-10; order 02-15 10
"""

import datetime as dt

import pytest

from features.analytics.kpis import (
    build_cohort_retention,
    compute_aov,
    compute_aov_by,
    compute_reorder_retention,
    count_converted_sessions,
    count_promo_first_orders_never_reordered,
    roll_revenue,
    share_first_order_within,
    sum_revenue_by,
)
from features.errors import EmptyResultError, UnknownValueError


@pytest.fixture
def customers(canonical):
    rows = [
        ("c1", "2024-01-01", "social", "US"),
        ("c2", "2024-01-01", "organic", "UK"),
        ("c3", "2024-01-10", None, "US"),
        ("c4", "2024-02-01", "organic", "US"),
        ("c5", "2024-02-10", "email", "UK"),
    ]
    return canonical(
        "customers",
        [
            dict(zip(["customer_id", "signup_ts", "channel", "region"], r, strict=True))
            for r in rows
        ],
    )


@pytest.fixture
def orders(canonical):
    rows = [
        ("o1", "c1", "2024-01-08", 100.0, False, "WELCOME"),
        ("o2", "c1", "2024-01-08", 50.0, False, None),
        ("o3", "c1", "2024-03-01", 30.0, False, None),
        ("o4", "c2", "2024-01-09", 200.0, False, "BOGO"),
        ("o5", "c2", "2024-01-20", -50.0, True, None),
        ("o6", "c3", "2024-01-10", 80.0, False, "X"),
        ("o7", "c3", "2024-02-09", 40.0, False, None),
        ("o8", "c5", "2024-02-15", 10.0, False, None),
    ]
    cols = ["order_id", "customer_id", "ts", "revenue", "is_refund", "promo_code"]
    return canonical("orders", [dict(zip(cols, r, strict=True)) for r in rows])


def rows(df, *cols):
    return [tuple(r) for r in df[list(cols)].itertuples(index=False)]


def test_revenue_by_channel_and_region_is_net_and_keeps_unknown_channels(orders, customers):
    df = sum_revenue_by(orders, customers)
    assert rows(df, "channel", "region", "orders", "revenue") == [
        ("social", "US", 3, 180.0),
        ("organic", "UK", 1, 150.0),
        ("(unknown)", "US", 2, 120.0),
        ("email", "UK", 1, 10.0),
    ]
    assert df.share.tolist() == pytest.approx([180 / 460, 150 / 460, 120 / 460, 10 / 460])
    with pytest.raises(UnknownValueError, match="'chanel'.*Did you mean 'channel'"):
        sum_revenue_by(orders, customers, by=["chanel"])


def test_aov_counts_sales_only(orders, customers):
    assert compute_aov(orders) == pytest.approx(510 / 7)
    df = compute_aov_by(orders, customers, by="channel")
    assert rows(df, "channel", "orders", "revenue", "aov") == [
        ("organic", 1, 200.0, 200.0),
        ("(unknown)", 2, 120.0, 60.0),
        ("social", 3, 180.0, 60.0),
        ("email", 1, 10.0, 10.0),
    ]


def test_first_order_within_days_of_signup_inclusive_or_not(orders, customers):
    # c1 at exactly 7 days, c3 the same day, c5 after 5 days; c2 after 8; c4 never
    assert share_first_order_within(customers, orders, days=7).to_dict() == {
        "count": 3,
        "total": 5,
        "share": 0.6,
    }
    assert share_first_order_within(customers, orders, days=7, inclusive=False).count == 2


def test_promo_first_orders_never_reordered(orders):
    # first orders with a promo: c1 (reordered), c2 (only a refund after), c3 (reordered)
    assert count_promo_first_orders_never_reordered(orders).to_dict() == {
        "count": 1,
        "total": 3,
        "share": 1 / 3,
    }


def test_reorder_retention_is_half_open_by_default(orders):
    df = compute_reorder_retention(orders, days=[30, 60, 90])
    # c1 reorders the same day; c3 exactly 30 days later, so only from the 60-day window on
    assert rows(df, "days", "customers", "retained") == [(30, 4, 1), (60, 4, 2), (90, 4, 2)]
    assert df.share.tolist() == [0.25, 0.5, 0.5]
    inclusive = compute_reorder_retention(orders, days=[30], inclusive=True)
    assert inclusive.retained.tolist() == [2]


def test_reorder_retention_can_leave_out_customers_not_yet_observed_long_enough(orders):
    df = compute_reorder_retention(orders, days=[30, 60], observation_end=dt.datetime(2024, 2, 15))
    # first orders 01-08, 01-09, 01-10 have 30 days observed; 02-15 does not; none has 60
    assert rows(df, "days", "customers", "retained") == [(30, 3, 1), (60, 0, 0)]


def test_rolling_revenue_fills_every_day(orders):
    df = roll_revenue(orders, window_days=2)
    assert len(df) == 54  # 2024-01-08 .. 2024-03-01
    assert df.revenue.sum() == pytest.approx(460.0)
    assert df.revenue.tolist()[:5] == [150.0, 200.0, 80.0, 0.0, 0.0]
    assert df.rolling_revenue.tolist()[:5] == [150.0, 350.0, 280.0, 80.0, 0.0]
    assert df.date.iloc[-1] == dt.datetime(2024, 3, 1)


def test_cohort_retention_matrix(orders):
    df = build_cohort_retention(orders)
    assert rows(df, "cohort", "months_since_first", "customers", "cohort_customers") == [
        ("2024-01", 0, 3, 3),
        ("2024-01", 1, 1, 3),
        ("2024-01", 2, 1, 3),
        ("2024-02", 0, 1, 1),
        ("2024-02", 1, 0, 1),
    ]
    assert df.share.tolist() == pytest.approx([1, 1 / 3, 1 / 3, 1, 0])
    assert build_cohort_retention(orders, max_months=1).months_since_first.max() == 1


def test_converted_sessions_by_first_source(canonical):
    events = [
        ("s1", 1, "email", "page_view"),
        ("s1", 2, "other", "purchase"),
        ("s2", 1, None, "page_view"),
        ("s3", 1, "organic", "page_view"),
        ("s3", 2, "organic", "add_to_cart"),
        ("s4", 1, "organic", "purchase"),
    ]
    table = canonical(
        "events",
        [
            {
                "session_id": s,
                "seq": q,
                "customer_id": "c",
                "ts": dt.datetime(2024, 1, 1, 0, q),
                "source": src,
                "event_type": et,
            }
            for s, q, src, et in events
        ],
    )
    df = count_converted_sessions(table)
    assert rows(df, "source", "sessions", "converted") == [
        ("email", 1, 1),
        ("organic", 2, 1),
        ("(unknown)", 1, 0),
    ]
    assert df.share.tolist() == [1.0, 0.5, 0.0]
    both = count_converted_sessions(table, conversion_event_types=["purchase", "add_to_cart"])
    assert both.converted.sum() == 3


def test_no_sales_is_an_error(canonical, customers):
    refunds = canonical(
        "orders",
        [
            {
                "order_id": "r",
                "customer_id": "c1",
                "ts": "2024-01-01",
                "revenue": -1.0,
                "is_refund": True,
            }
        ],
    )
    for call in (
        lambda: compute_aov(refunds),
        lambda: compute_reorder_retention(refunds),
        lambda: sum_revenue_by(refunds, customers),
        lambda: roll_revenue(refunds, window_days=7),
    ):
        with pytest.raises(EmptyResultError, match="no orders"):
            call()
