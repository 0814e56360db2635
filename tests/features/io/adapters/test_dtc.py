"""The DTC adapter: customers, orders with promo codes, sessions as page-view events."""

import datetime as dt

import pytest

from features.errors import ContractError

CUSTOMERS = (
    "customer_id,signup_date,channel,region\n1,2024-01-15,organic,US\n2,2024-02-01,email,UK\n"
)
ORDERS = (
    "order_id,customer_id,order_date,revenue,promo_used,is_first_order\n"
    "1,1,2024-03-12,114.31,BOGO,True\n"
    "2,2,2024-03-14,54.21,,True\n"
)
SESSIONS = (
    "session_id,customer_id,session_date,source,page_views,converted\n"
    "1,1,2024-01-13,paid_search,2,True\n"
    "2,2,2024-01-31,email,0,False\n"
    "3,2,2024-02-02,organic,0,True\n"
    "4,1,2024-02-03,social,1,False\n"
)


def write(folder, sessions=SESSIONS):
    (folder / "customers.csv").write_text(CUSTOMERS)
    (folder / "orders.csv").write_text(ORDERS)
    (folder / "web_sessions.csv").write_text(sessions)


def test_sessions_become_events_and_none_is_lost(con, load, tmp_path):
    write(tmp_path)
    assert load("dtc", tmp_path) == {
        "customers": (2, 2, 0),
        "events": (6, 6, 0),
        "orders": (2, 2, 0),
    }
    events = con.table("events").order_by(["session_id", "seq"]).to_pandas()
    assert events[["session_id", "seq", "event_type", "source", "page"]].values.tolist() == [
        ["1", 1, "page_view", "paid_search", None],
        ["1", 2, "page_view", "paid_search", None],
        ["1", 3, "purchase", "paid_search", None],
        ["2", 1, "other", "email", None],  # no page views, no purchase: still a session
        ["3", 1, "purchase", "organic", None],
        ["4", 1, "page_view", "social", None],
    ]
    assert events.ts.iloc[0] == dt.datetime(2024, 1, 13)
    orders = con.table("orders").order_by("order_id").to_pandas()
    assert orders[["order_id", "revenue", "promo_code", "is_refund"]].values.tolist() == [
        ["1", 114.31, "BOGO", False],
        ["2", 54.21, None, False],
    ]
    customers = con.table("customers").order_by("customer_id").to_pandas()
    assert customers[["customer_id", "signup_ts", "channel", "region"]].values.tolist() == [
        ["1", dt.datetime(2024, 1, 15), "organic", "US"],
        ["2", dt.datetime(2024, 2, 1), "email", "UK"],
    ]


@pytest.mark.parametrize(
    ("page_views", "check"),
    [("abc", "TRY_CAST(page_views AS BIGINT) >= 0"), ("-1", "TRY_CAST(page_views AS BIGINT) >= 0")],
)
def test_a_page_count_that_cannot_make_events_stops_the_load_naming_the_row(
    load, tmp_path, page_views, check
):
    write(tmp_path, SESSIONS + f"5,1,2024-02-04,email,{page_views},False\n")
    with pytest.raises(ContractError) as err:
        load("dtc", tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'web_sessions.csv'} row 5, column page_views: value '{page_views}' "
        f"fails the check `{check}` (1 row(s) fail)"
    )


def test_real_dtc_sample_loads_whole_and_reconciles_every_session(con, load, shared_data):
    assert load("dtc", shared_data / "dtc_wellness") == {
        "customers": (100, 100, 0),
        "events": (4716, 4716, 0),
        "orders": (400, 400, 0),
    }
    events = con.table("events")
    assert events.session_id.nunique().to_pandas() == 600
    kinds = events.event_type.value_counts().to_pandas()
    assert dict(zip(kinds.event_type, kinds.event_type_count, strict=True)) == {
        "page_view": 4606,
        "purchase": 110,
    }
    bought = events.filter(events.event_type == "purchase").source.value_counts().to_pandas()
    assert dict(zip(bought.source, bought.source_count, strict=True)) == {
        "organic": 28,
        "referral": 25,
        "paid_search": 24,
        "email": 18,
        "social": 15,
    }
    assert round(con.table("orders").revenue.sum().to_pandas(), 2) == 41282.33
    assert con.table("orders").promo_code.count().to_pandas() == 303
