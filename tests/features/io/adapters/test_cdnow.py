"""The CDNOW adapter: each purchase line is an order with one line; customers by cohort."""

import datetime as dt

import pytest

from features.errors import ContractError
from features.io.adapters.cdnow import read_cdnow

MASTER = (
    " customer_id  date number_of_cds  dollar_value\r\n"
    " 00001 19970101  1   11.77\r\n"
    " 00002 19970112  1   12.00\r\n"
    " 00002 19970112  5   77.00\r\n"
    " 00003 19970102  2   20.76\r\n"
    " 00003 19971302  1    9.99\r\n"
)
SAMPLE = " 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  2   29.73\r\n"


def test_each_line_is_an_order_and_a_line_and_customers_start_at_first_purchase(
    con, load, tmp_path
):
    (tmp_path / "CDNOW_master.txt").write_text(MASTER)
    assert load("cdnow", tmp_path) == {
        "customers": (3, 3, 0),
        "orders": (5, 4, 1),
        "order_lines": (5, 4, 1),
    }
    orders = con.table("orders").order_by("order_id").to_pandas()
    assert orders[["order_id", "customer_id", "ts", "revenue"]].values.tolist() == [
        ["1", "00001", dt.datetime(1997, 1, 1), 11.77],
        ["2", "00002", dt.datetime(1997, 1, 12), 12.0],
        ["3", "00002", dt.datetime(1997, 1, 12), 77.0],
        ["4", "00003", dt.datetime(1997, 1, 2), 20.76],
    ]
    lines = con.table("order_lines").order_by("line_id").to_pandas()
    assert lines[["line_id", "order_id", "product_id", "price", "quantity"]].values.tolist() == [
        ["1", "1", "cd", 11.77, 1],
        ["2", "2", "cd", 12.0, 1],
        ["3", "3", "cd", 15.4, 5],
        ["4", "4", "cd", 10.38, 2],
    ]
    q = con.table("quarantine").order_by("table_name").to_pandas()
    assert q[["table_name", "row_number", "reason"]].values.tolist() == [
        ["order_lines", 5, "order_id: '5' is not an accepted orders.order_id"],
        ["orders", 5, "ts: cannot parse '19971302' as timestamp"],
    ]
    signup = con.table("customers").order_by("customer_id").signup_ts.to_pandas().tolist()
    assert signup == [dt.datetime(1997, 1, 1), dt.datetime(1997, 1, 12), dt.datetime(1997, 1, 2)]


def test_read_cdnow_reads_both_layouts_typed(con, tmp_path):
    (tmp_path / "CDNOW_sample.txt").write_text(SAMPLE)
    (tmp_path / "m.txt").write_text(MASTER.rsplit("\r\n", 2)[0] + "\r\n")
    sample = read_cdnow(con, tmp_path / "CDNOW_sample.txt").to_pyarrow().to_pylist()
    assert [
        (r["customer_id"], r["date"], r["number_of_cds"], r["dollar_value"]) for r in sample
    ] == [
        ("00004", dt.date(1997, 1, 1), 2, 29.33),
        ("00004", dt.date(1997, 1, 18), 2, 29.73),
    ]
    master = read_cdnow(con, tmp_path / "m.txt").to_pandas()
    assert master.dollar_value.tolist() == [11.77, 12.0, 77.0, 20.76]


def test_read_cdnow_refuses_a_line_that_does_not_parse(con, tmp_path):
    (tmp_path / "m.txt").write_text(MASTER)
    with pytest.raises(ContractError) as err:
        read_cdnow(con, tmp_path / "m.txt")
    assert str(err.value) == (
        f"{tmp_path / 'm.txt'} row 5, column purchase_date: value '19971302' fails the check "
        "`try_strptime(purchase_date, '%Y%m%d') IS NOT NULL` (1 row(s) fail)"
    )


def test_a_file_of_another_layout_is_named(con, load, tmp_path):
    (tmp_path / "x.txt").write_text("a b c\n")
    with pytest.raises(ContractError, match=r"x\.txt: not a CDNOW file: the first line has 3"):
        load("cdnow", tmp_path / "x.txt")


def test_real_cdnow_master_loads_every_line(con, load, shared_data):
    assert load("cdnow", shared_data / "cdnow") == {
        "customers": (23570, 23570, 0),
        "orders": (69659, 69659, 0),
        "order_lines": (69659, 69659, 0),
    }
    orders = con.table("orders")
    assert orders.ts.min().to_pandas() == dt.datetime(1997, 1, 1)
    assert orders.ts.max().to_pandas() == dt.datetime(1998, 6, 30)
    assert con.table("customers").signup_ts.max().to_pandas() < dt.datetime(1997, 4, 1)


def test_real_cdnow_sample_reads_for_benchmarks(con, shared_data):
    sample = read_cdnow(con, shared_data / "cdnow" / "CDNOW_sample.txt")
    assert sample.count().to_pandas() == 6919
    assert sample.customer_id.nunique().to_pandas() == 2357
