"""Mappings in params.yaml: a new dataset by configuration, checked like any load."""

import datetime as dt
from pathlib import Path

import pytest

from features.config import DatasetMapping, load_params
from features.contract import validate
from features.errors import ContractError
from features.io.mapping import referenced_columns, stage_mapping

NOW = dt.datetime(2026, 1, 1)
ROOT = Path(__file__).resolve().parents[3]

RETAIL = """\
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom
536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,17850,United Kingdom
C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527,United Kingdom
536380,22961,JAM MAKING SET PRINTED,24,12/1/2010 9:41,1.45,14527,United Kingdom
536381,84854,GIRLY PINK TOOL SET,-2,12/1/2010 9:45,4.95,14527,United Kingdom
536414,22139,,56,12/1/2010 11:52,0,,United Kingdom
A563186,B,Adjust bad debt,1,8/12/2011 14:51,-11062.06,13313,United Kingdom
536415,22952,60 CAKE CASES VINTAGE CHRISTMAS,10,13/45/2010 11:57,0.55,12583,France
"""


@pytest.fixture
def retail(con, tmp_path):
    (tmp_path / "online_retail.csv").write_text(RETAIL)
    mapping = load_params(ROOT / "params.yaml", env={}).loaders.mappings["online_retail"]
    staged = stage_mapping(con, mapping, name="online_retail", base=tmp_path).staged
    return validate(con, staged, now=NOW, load_id="t"), tmp_path / "online_retail.csv"


def test_online_retail_maps_invoices_onto_orders_lines_and_customers(retail):
    result, _ = retail
    orders = result.accepted["orders"].order_by("order_id").to_pandas()
    assert orders[["order_id", "customer_id", "revenue", "is_refund"]].to_dict("records") == [
        {"order_id": "536365", "customer_id": "17850", "revenue": 35.64, "is_refund": False},
        {"order_id": "536366", "customer_id": "17850", "revenue": 11.1, "is_refund": False},
        {"order_id": "536380", "customer_id": "14527", "revenue": 34.8, "is_refund": False},
        {"order_id": "536381", "customer_id": "14527", "revenue": -9.9, "is_refund": True},
        {"order_id": "C536379", "customer_id": "14527", "revenue": -27.5, "is_refund": True},
    ]
    assert orders.ts.iloc[0] == dt.datetime(2010, 12, 1, 8, 26)
    customers = result.accepted["customers"].order_by("customer_id").to_pandas()
    assert customers[["customer_id", "signup_ts", "region"]].to_dict("records") == [
        {
            "customer_id": "13313",
            "signup_ts": dt.datetime(2011, 8, 12, 14, 51),
            "region": "United Kingdom",
        },
        {
            "customer_id": "14527",
            "signup_ts": dt.datetime(2010, 12, 1, 9, 41),
            "region": "United Kingdom",
        },
        {
            "customer_id": "17850",
            "signup_ts": dt.datetime(2010, 12, 1, 8, 26),
            "region": "United Kingdom",
        },
    ]
    lines = result.accepted["order_lines"].order_by("line_id").to_pandas()
    assert lines[["line_id", "product_id", "price", "quantity"]].values.tolist() == [
        ["536365-1", "85123A", 2.55, 6],
        ["536365-2", "71053", 3.39, 6],
        ["536366-3", "22633", 1.85, 6],
        ["536380-5", "22961", 1.45, 24],
        ["536381-6", "84854", 4.95, -2],
        ["C536379-4", "D", 27.5, -1],
    ]


def test_online_retail_quarantines_rows_without_a_customer_and_bad_rows_with_reasons(retail):
    result, path = retail
    q = result.quarantine.order_by(["table_name", "row_number"]).to_pandas()
    assert {t: (r.read, r.accepted, r.quarantined) for t, r in result.reports.items()} == {
        "customers": (4, 3, 1),
        "orders": (8, 5, 3),
        "order_lines": (9, 6, 3),
    }
    assert set(q.source) == {str(path)}
    not_accepted = "is not an accepted orders.order_id"
    assert q[["table_name", "row_number", "column_name", "value", "reason"]].values.tolist() == [
        [
            "customers",
            9,
            "signup_ts",
            "13/45/2010 11:57",
            "signup_ts: cannot parse '13/45/2010 11:57' as timestamp",
        ],
        ["order_lines", 7, "order_id", "536414", f"order_id: '536414' {not_accepted}"],
        [
            "order_lines",
            8,
            "price",
            "-11062.06",
            f"price: -11062.06 is below 0; order_id: 'A563186' {not_accepted}",
        ],
        ["order_lines", 9, "order_id", "536415", f"order_id: '536415' {not_accepted}"],
        # the invoice line without a customer
        ["orders", 7, "customer_id", "null", "customer_id: required value is missing"],
        [
            "orders",
            8,
            "revenue",
            "-11062.06",
            "negative_revenue: revenue is negative on an order that is not a refund",
        ],
        [
            "orders",
            9,
            "ts",
            "13/45/2010 11:57",
            "ts: cannot parse '13/45/2010 11:57' as timestamp; "
            "customer_id: '12583' is not an accepted customers.customer_id",
        ],
    ]


def test_referenced_columns_skip_literals_qualified_names_and_lambda_parameters():
    sql = "list_transform(string_split(\"Page Path\", '-'), x -> upper(x)) || t.other || 'lit'"
    assert referenced_columns(sql) == {"Page Path"}
    assert referenced_columns("this is not ((( sql") is None


def test_a_derived_source_keeps_each_row_pointing_at_its_file_line(con, tmp_path):
    (tmp_path / "s.csv").write_text("sid,n\ns1,2\ns2,1\n")
    mapping = DatasetMapping.model_validate(
        {
            "sources": {
                "s": {"file": "s.csv"},
                "steps": {
                    "sql": "SELECT *, unnest(generate_series(1, CAST(n AS INT))) AS k FROM {s}"
                },
            },
            "tables": {},
        }
    )
    steps = stage_mapping(con, mapping, name="m", base=tmp_path).sources["steps"]
    got = steps.expr.order_by(["_row", "k"]).select("sid", "k", "_row").to_pyarrow().to_pylist()
    assert [tuple(r.values()) for r in got] == [("s1", 1, 1), ("s1", 2, 1), ("s2", 1, 2)]
    assert steps.files == (tmp_path / "s.csv",)


def test_an_unknown_source_in_derived_sql_suggests_the_closest(con, tmp_path):
    (tmp_path / "s.csv").write_text("sid\ns1\n")
    mapping = DatasetMapping.model_validate(
        {
            "sources": {"sessions": {"file": "s.csv"}, "d": {"sql": "SELECT * FROM {sesions}"}},
            "tables": {},
        }
    )
    with pytest.raises(ContractError) as err:
        stage_mapping(con, mapping, name="m", base=tmp_path)
    assert str(err.value) == (
        "mapping 'm', source 'd': `{sesions}` names unknown earlier source 'sesions'. "
        "Did you mean 'sessions'? Valid: sessions."
    )
