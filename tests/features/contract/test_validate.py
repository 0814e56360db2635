"""The validator: every bad row is quarantined with its reason, and counts reconcile."""

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.contract import validate
from features.errors import ContractError

NOW = dt.datetime(2026, 1, 1)


def run(con, **staged):
    result = validate(con, staged, now=NOW, load_id="t")
    q = result.quarantine.to_pandas().sort_values(["table_name", "row_number"])
    return result, q


def test_good_rows_are_accepted_and_typed(con, stage):
    result, q = run(
        con,
        customers=stage(
            "customers",
            [
                {"customer_id": "c1", "signup_ts": "2024-01-01 10:00:00", "channel": "email"},
            ],
        ),
    )
    df = result.accepted["customers"].to_pandas()
    assert q.empty
    assert df.loc[0, "signup_ts"] == dt.datetime(2024, 1, 1, 10)
    assert df.loc[0, "channel"] == "email"
    assert df.loc[0, "region"] is None


def test_quarantine_row_names_source_row_column_and_value(con, stage):
    _, q = run(
        con,
        customers=stage(
            "customers",
            [
                {"customer_id": "c1", "signup_ts": "2024-01-01"},
                {"customer_id": "c2", "signup_ts": "not a date"},
            ],
            source="customers.csv",
        ),
    )
    assert q.to_dict("records") == [
        {
            "load_id": "t",
            "table_name": "customers",
            "source": "customers.csv",
            "row_number": 2,
            "column_name": "signup_ts",
            "value": "not a date",
            "reason": "signup_ts: cannot parse 'not a date' as timestamp",
            "record": "{'customer_id': c2, 'signup_ts': not a date}",
        }
    ]


def test_duplicate_key_keeps_the_first_row(con, stage):
    result, q = run(
        con,
        customers=stage(
            "customers",
            [
                {"customer_id": "c1", "signup_ts": "2024-01-01"},
                {"customer_id": "c1", "signup_ts": "2024-02-01"},
            ],
        ),
    )
    assert result.accepted["customers"].to_pandas().signup_ts.tolist() == [dt.datetime(2024, 1, 1)]
    assert q.reason.tolist() == ["duplicate customer_id 'c1' (first at row 1)"]


def test_children_of_quarantined_parents_are_quarantined_and_counts_reconcile(con, stage):
    result, q = run(
        con,
        customers=stage(
            "customers",
            [
                {"customer_id": "c1", "signup_ts": "2024-01-01"},
                {"customer_id": "c2", "signup_ts": "2030-01-01"},  # in the future
            ],
        ),
        orders=stage(
            "orders",
            [
                {"order_id": "o1", "customer_id": "c1", "ts": "2024-02-01", "revenue": "10"},
                {"order_id": "o2", "customer_id": "c2", "ts": "2024-02-01", "revenue": "10"},
                {"order_id": "o3", "customer_id": "zz", "ts": "2024-02-01", "revenue": "10"},
            ],
        ),
    )
    assert q.reason.tolist() == [
        "signup_ts: 2030-01-01 00:00:00 is in the future (after 2026-01-01 00:00)",
        "customer_id: 'c2' is not an accepted customers.customer_id",
        "customer_id: 'zz' is not an accepted customers.customer_id",
    ]
    for r in result.reports.values():
        assert r.reconciles, r
    assert [(r.read, r.accepted, r.quarantined) for r in result.reports.values()] == [
        (2, 1, 1),
        (3, 1, 2),
    ]


def test_negative_revenue_is_allowed_only_on_refunds(con, stage):
    c = stage("customers", [{"customer_id": "c1", "signup_ts": "2024-01-01"}])
    _, q = run(
        con,
        customers=c,
        orders=stage(
            "orders",
            [
                {
                    "order_id": "o1",
                    "customer_id": "c1",
                    "ts": "2024-02-01",
                    "revenue": "-5",
                    "is_refund": "true",
                },
                {
                    "order_id": "o2",
                    "customer_id": "c1",
                    "ts": "2024-02-01",
                    "revenue": "-5",
                    "is_refund": "false",
                },
                {
                    "order_id": "o3",
                    "customer_id": "c1",
                    "ts": "2024-02-01",
                    "revenue": "-5",
                    "is_refund": None,
                },
            ],
        ),
    )
    assert q.row_number.tolist() == [2, 3]
    assert set(q.reason) == {
        "negative_revenue: revenue is negative on an order that is not a refund"
    }


def test_several_reasons_are_all_listed(con, stage):
    c = stage("customers", [{"customer_id": "c1", "signup_ts": "2024-01-01"}])
    _, q = run(
        con,
        customers=c,
        subscriptions=stage(
            "subscriptions",
            [
                {
                    "subscription_id": "s1",
                    "customer_id": "nobody",
                    "plan": "Monthly",
                    "start_ts": "2024-05-01",
                    "end_ts": "2024-04-01",
                    "price": "-1",
                },
            ],
        ),
    )
    assert q.reason.tolist() == [
        "price: -1.0 is below 0; end_before_start: end_ts is before start_ts; "
        "customer_id: 'nobody' is not an accepted customers.customer_id"
    ]
    assert q.column_name.tolist() == ["price"]


def test_allowed_values_are_listed_in_the_reason(con, stage):
    c = stage("customers", [{"customer_id": "c1", "signup_ts": "2024-01-01"}])
    o = stage(
        "orders", [{"order_id": "o1", "customer_id": "c1", "ts": "2024-02-01", "revenue": "1"}]
    )
    lines = stage(
        "order_lines",
        [{"line_id": "l1", "order_id": "o1", "product_id": "p", "price": "1", "quantity": "1"}],
    )
    _, q = run(
        con,
        customers=c,
        orders=o,
        order_lines=lines,
        returns=stage(
            "returns",
            [
                {"return_id": "r1", "line_id": "l1", "ts": "2024-02-05", "reason": "too_tight"},
            ],
        ),
    )
    assert q.reason.tolist() == [
        "reason: 'too_tight' is not one of too_small, too_large, style, quality, other"
    ]


def test_blank_required_value_is_missing_not_unparseable(con, stage):
    _, q = run(
        con, customers=stage("customers", [{"customer_id": "  ", "signup_ts": "2024-01-01"}])
    )
    assert q.reason.tolist() == ["customer_id: required value is missing"]


def test_missing_required_column_is_an_error_naming_the_source(con, stage):
    with pytest.raises(
        ContractError, match=r"orders\.csv: table 'orders' is missing required column\(s\) revenue"
    ):
        run(
            con,
            customers=stage("customers", [{"customer_id": "c1", "signup_ts": "2024-01-01"}]),
            orders=stage(
                "orders",
                [{"order_id": "o1", "customer_id": "c1", "ts": "2024-01-02"}],
                source="orders.csv",
            ),
        )


def test_unknown_column_is_an_error_with_a_suggestion(con, stage):
    with pytest.raises(ContractError, match=r"Did you mean 'signup_ts'\?"):
        run(con, customers=stage("customers", [{"customer_id": "c1", "signup_tz": "2024-01-01"}]))


def test_child_without_its_parent_table_is_an_error(con, stage):
    with pytest.raises(ContractError, match="references 'customers'"):
        run(
            con,
            orders=stage(
                "orders",
                [{"order_id": "o1", "customer_id": "c1", "ts": "2024-01-02", "revenue": "1"}],
            ),
        )


def test_a_format_parses_text_timestamps_and_reports_what_does_not_match(con, stage):
    staged = stage(
        "customers",
        [
            {"customer_id": "c1", "signup_ts": "19970101"},
            {"customer_id": "c2", "signup_ts": "1997-01-02"},
            {"customer_id": "c3", "signup_ts": " "},
        ],
    )
    staged = dataclasses.replace(staged, formats={"signup_ts": "%Y%m%d"})
    result, q = run(con, customers=staged)
    assert result.accepted["customers"].to_pandas().signup_ts.tolist() == [dt.datetime(1997, 1, 1)]
    assert q[["row_number", "value", "reason"]].to_dict("records") == [
        {
            "row_number": 2,
            "value": "1997-01-02",
            "reason": "signup_ts: cannot parse '1997-01-02' as timestamp",
        },
        {"row_number": 3, "value": " ", "reason": "signup_ts: required value is missing"},
    ]


def test_a_format_for_a_column_that_is_not_a_timestamp_is_an_error(con, stage):
    staged = stage("customers", [{"customer_id": "c1", "signup_ts": "2024-01-01"}])
    with pytest.raises(ContractError, match=r"customers\.customer_id, which is string"):
        run(con, customers=dataclasses.replace(staged, formats={"customer_id": "%Y"}))


@given(
    st.lists(st.text(alphabet=st.sampled_from(" \t\n\r\x0b\x0c\x01ab!é"), max_size=6), max_size=30)
)
@settings(max_examples=30, deadline=None)
def test_fast_strip_equals_strip_on_any_string(values):
    import ibis

    from features.contract.validate import _strip
    from features.io.warehouse import connect

    con = connect("duckdb:///:memory:")
    t = ibis.memtable({"x": [*values, None]}, schema={"x": "string"})
    got = con.execute(t.select(a=_strip(t.x), b=t.x.strip()))
    assert got.a.tolist() == got.b.tolist()


def test_microsecond_timestamps_are_taken_as_they_are(con):
    import pyarrow as pa

    from features.contract.validate import Staged

    ts = pa.array([dt.datetime(2024, 1, 1, 10, 0, 0, 123456)], type=pa.timestamp("us"))
    rows = pa.table({"customer_id": ["c1"], "signup_ts": ts, "_row": [1], "_source": ["m"]})
    import ibis

    result = validate(
        con, {"customers": Staged("customers", ibis.memtable(rows), "m")}, now=NOW, load_id="t"
    )
    df = result.accepted["customers"].to_pandas()
    assert df.signup_ts.tolist() == [dt.datetime(2024, 1, 1, 10, 0, 0, 123456)]
    assert result.quarantine.count().to_pandas() == 0
