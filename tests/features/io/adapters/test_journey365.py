"""The 365 adapter: pages become ordered events, users customers, plans subscriptions."""

import datetime as dt

RAW = """\
user_id,session_id,subscription_type,user_journey
7,100,Annual,Homepage-Log in-Log in-Checkout
7,101,Annual,
9,102,Monthly,Pricing--Sign up
"""


def test_each_page_is_an_event_in_file_order_from_the_anchor(con, load, tmp_path):
    (tmp_path / "user_journey_raw.csv").write_text(RAW)
    got = load("365", tmp_path)
    assert got == {
        "customers": (2, 2, 0),
        "events": (8, 8, 0),
        "subscriptions": (2, 2, 0),
    }
    events = con.table("events").order_by(["ts", "seq"]).to_pandas()
    t0 = dt.datetime(2022, 1, 1)
    hour, sec = dt.timedelta(hours=1), dt.timedelta(seconds=1)
    assert events[["session_id", "seq", "customer_id", "event_type", "page"]].values.tolist() == [
        ["100", 1, "7", "page_view", "Homepage"],
        ["100", 2, "7", "page_view", "Log in"],
        ["100", 3, "7", "page_view", "Log in"],
        ["100", 4, "7", "page_view", "Checkout"],
        ["101", 1, "7", "other", None],  # an empty journey is kept as one event
        ["102", 1, "9", "page_view", "Pricing"],
        ["102", 2, "9", "other", None],
        ["102", 3, "9", "page_view", "Sign up"],
    ]
    assert events.ts.tolist() == [
        t0,
        t0 + sec,
        t0 + 2 * sec,
        t0 + 3 * sec,
        t0 + hour,
        t0 + 2 * hour,
        t0 + 2 * hour + sec,
        t0 + 2 * hour + 2 * sec,
    ]
    subs = con.table("subscriptions").order_by("customer_id").to_pandas()
    assert subs[["subscription_id", "customer_id", "plan", "start_ts"]].values.tolist() == [
        ["7", "7", "Annual", t0],
        ["9", "9", "Monthly", t0 + 2 * hour],
    ]
    customers = con.table("customers").order_by("customer_id").to_pandas()
    assert customers.signup_ts.tolist() == [t0, t0 + 2 * hour]


def test_a_user_with_two_plans_is_quarantined_not_merged(con, load, tmp_path):
    (tmp_path / "user_journey_raw.csv").write_text(RAW + "7,103,Monthly,Homepage\n")
    got = load("365", tmp_path)
    assert got["subscriptions"] == (3, 2, 1)
    q = con.table("quarantine").filter(lambda t: t.table_name == "subscriptions").to_pandas()
    assert q.reason.tolist() == ["duplicate subscription_id '7' (first at row 1)"]
    assert q.row_number.tolist() == [4]


def test_real_365_journeys_load_whole_and_reproduce_the_published_paths(con, load, shared_data):
    got = load("365", shared_data / "user_journey_365")
    assert got == {
        "customers": (1350, 1350, 0),
        "events": (86150, 86150, 0),
        "subscriptions": (1350, 1350, 0),
    }
    assert con.table("events").session_id.nunique().to_pandas() == 9935
    plans = con.table("subscriptions").plan.value_counts().to_pandas()
    assert dict(zip(plans.plan, plans.plan_count, strict=True)) == {
        "Annual": 931,
        "Monthly": 376,
        "Quarterly": 43,
    }
    # Published figures join each user's sessions in file order and collapse repeats:
    # the synthesized times must give back exactly that order.
    ev = con.table("events").order_by(["customer_id", "ts", "seq"]).to_pandas()
    new_page = (ev.page != ev.page.shift()) | (ev.customer_id != ev.customer_id.shift())
    journeys = ev[new_page]
    assert len(journeys) == 14098
    assert round(journeys.groupby("customer_id").size().mean(), 5) == 10.44296
    assert journeys.page.value_counts()[["Homepage", "Log in", "Resources center"]].tolist() == [
        2679,
        2234,
        546,
    ]
