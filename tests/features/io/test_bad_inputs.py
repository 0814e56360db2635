"""A corpus of bad inputs: each gives one exact error or one exact quarantine row.

Every case writes literal files into a temporary folder and loads them through a mapping
(by default each file maps column-for-column onto the table its name gives). An error
names the file (and row, column and value where there is one); a quarantine row names
the table, file, row, column, value and reason.
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.config import DatasetMapping
from features.contract import validate
from features.errors import ContractError
from features.io.mapping import stage_mapping

NOW = dt.datetime(2026, 1, 1)
CUSTOMERS = "customer_id,signup_ts\nc1,2024-01-01\n"
ORDERS = "order_id,customer_id,ts,revenue\no1,c1,2024-02-01,10\n"
EVENT_TYPES = "page_view, search, add_to_cart, checkout, purchase, login, signup, other"


@dataclass
class Case:
    files: dict[str, str | bytes | pa.Table]
    expect: tuple | str  # (table, file, row, column, value, reason) or an error message
    tables: dict[str, dict] = field(default_factory=dict)  # mappings replacing the identity


def q(table, file, row, column, value, reason):
    return (table, file, row, column, value, reason)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


CASES = {
    "wrong type (decimal comma)": Case(
        {"customers.csv": CUSTOMERS, "orders.csv": ORDERS + 'o2,c1,2024-02-01,"12,50"\n'},
        q(
            "orders",
            "orders.csv",
            2,
            "revenue",
            "12,50",
            "revenue: cannot parse '12,50' as float64",
        ),
    ),
    "wrong type (timestamp)": Case(
        {"customers.csv": CUSTOMERS + "c2,yesterday\n"},
        q(
            "customers",
            "customers.csv",
            2,
            "signup_ts",
            "yesterday",
            "signup_ts: cannot parse 'yesterday' as timestamp",
        ),
    ),
    "date not in the configured format": Case(
        {
            "customers.csv": CUSTOMERS,
            "orders.csv": "order_id,customer_id,ts,revenue\no1,c1,01/02/2024,10\no2,c1,31/02/2024,5\n",
        },
        q(
            "orders",
            "orders.csv",
            2,
            "ts",
            "31/02/2024",
            "ts: cannot parse '31/02/2024' as timestamp",
        ),
        tables={
            "orders": {
                "source": "orders",
                "columns": {c: c for c in ("order_id", "customer_id", "ts", "revenue")},
                "formats": {"ts": "%d/%m/%Y"},
            }
        },
    ),
    "wrong type in parquet": Case(
        {
            "customers.csv": CUSTOMERS,
            "orders.parquet": pa.table(
                {
                    "order_id": ["o1", "o2"],
                    "customer_id": ["c1", "c1"],
                    "ts": [dt.datetime(2024, 2, 1)] * 2,
                    "revenue": ["10", "ten"],
                }
            ),
        },
        q(
            "orders",
            "orders.parquet",
            2,
            "revenue",
            "ten",
            "revenue: cannot parse 'ten' as float64",
        ),
    ),
    "missing required column": Case(
        {"customers.csv": CUSTOMERS, "orders.csv": "order_id,customer_id,ts\no1,c1,2024-02-01\n"},
        "mapping 't', table 'orders': required column(s) revenue are not mapped "
        "(mapped: order_id, customer_id, ts)",
    ),
    "unknown source column in a mapping": Case(
        {
            "customers.csv": CUSTOMERS,
            "orders.csv": "order_id,customer_id,ts,amount\no1,c1,2024-02-01,10\n",
        },
        "mapping 't', table 'orders': `amout` uses unknown column of source 'orders' "
        "({tmp}/orders.csv) 'amout'. Did you mean 'amount'? "
        "Valid: amount, customer_id, order_id, ts.",
        tables={
            "orders": {
                "source": "orders",
                "columns": {"order_id": "order_id", "customer_id": "customer_id", "ts": "ts"}
                | {"revenue": "amout"},
            }
        },
    ),
    "unknown contract column in a mapping": Case(
        {"customers.csv": CUSTOMERS + "c2,2024-01-01\n"},
        "mapping 't', table 'customers': unknown column of 'customers' 'signup'. "
        "Did you mean 'signup_ts'? Valid: birth_year, channel, customer_id, email, region, "
        "segment, signup_ts.",
        tables={
            "customers": {
                "source": "customers",
                "columns": {"customer_id": "customer_id", "signup": "signup_ts"},
            }
        },
    ),
    "unknown table in a mapping": Case(
        {"customers.csv": CUSTOMERS},
        "mapping 't': unknown table 'customer'. Did you mean 'customers'? "
        "Valid: customers, events, order_lines, orders, returns, subscriptions.",
        tables={"customer": {"source": "customers", "columns": {"customer_id": "customer_id"}}},
    ),
    "unknown key across tables": Case(
        {"customers.csv": CUSTOMERS, "orders.csv": ORDERS + "o2,c9,2024-02-01,10\n"},
        q(
            "orders",
            "orders.csv",
            2,
            "customer_id",
            "c9",
            "customer_id: 'c9' is not an accepted customers.customer_id",
        ),
    ),
    "child of a quarantined parent": Case(
        {
            "customers.csv": CUSTOMERS,
            "orders.csv": "order_id,customer_id,ts,revenue\no1,c1,2024-02-01,10\n",
            "order_lines.csv": "line_id,order_id,product_id,price,quantity\nl1,o1,p1,4,0\n",
        },
        q("order_lines", "order_lines.csv", 1, "quantity", "0", "zero_quantity: quantity is zero"),
    ),
    "negative revenue on a non-refund": Case(
        {"customers.csv": CUSTOMERS, "orders.csv": ORDERS + "o2,c1,2024-02-01,-5\n"},
        q(
            "orders",
            "orders.csv",
            2,
            "revenue",
            "-5",
            "negative_revenue: revenue is negative on an order that is not a refund",
        ),
    ),
    "timestamp in the future": Case(
        {"customers.csv": CUSTOMERS, "orders.csv": ORDERS + "o2,c1,2030-01-01,10\n"},
        q(
            "orders",
            "orders.csv",
            2,
            "ts",
            "2030-01-01",
            "ts: 2030-01-01 00:00:00 is in the future (after 2026-01-01 00:00)",
        ),
    ),
    "duplicate primary key": Case(
        {"customers.csv": CUSTOMERS + "c2,2024-01-02\nc1,2024-03-01\n"},
        q(
            "customers",
            "customers.csv",
            3,
            "customer_id",
            "c1",
            "duplicate customer_id 'c1' (first at row 1)",
        ),
    ),
    "blank key": Case(
        {"customers.csv": CUSTOMERS + "  ,2024-01-02\n"},
        q(
            "customers",
            "customers.csv",
            2,
            "customer_id",
            "null",  # blank text is a missing value
            "customer_id: required value is missing",
        ),
    ),
    "bad enum value": Case(
        {
            "customers.csv": CUSTOMERS,
            "events.csv": "session_id,seq,customer_id,ts,event_type\n"
            "s1,1,c1,2024-02-01 10:00,page_view\ns1,2,c1,2024-02-01 10:01,click\n",
        },
        q(
            "events",
            "events.csv",
            2,
            "event_type",
            "click",
            f"event_type: 'click' is not one of {EVENT_TYPES}",
        ),
    ),
    "value below its minimum": Case(
        {"customers.csv": "customer_id,signup_ts,birth_year\nc1,2024-01-01,1850\n"},
        q("customers", "customers.csv", 1, "birth_year", "1850", "birth_year: 1850 is below 1900"),
    ),
    "end before start": Case(
        {
            "customers.csv": CUSTOMERS,
            "subscriptions.csv": "subscription_id,customer_id,plan,start_ts,end_ts\n"
            "s1,c1,Monthly,2024-05-01,2024-04-01\n",
        },
        q(
            "subscriptions",
            "subscriptions.csv",
            1,
            "start_ts",
            "2024-05-01",
            "end_before_start: end_ts is before start_ts",
        ),
    ),
    "corrupt parquet": Case(
        {"customers.parquet": parquet_bytes(pa.table({"customer_id": ["c1"] * 50}))[:300]},
        "{tmp}/customers.parquet: cannot read as Parquet: "
        "No magic bytes found at end of file '{tmp}/customers.parquet'",
    ),
    "empty file": Case(
        {"customers.csv": CUSTOMERS, "orders.csv": ""}, "{tmp}/orders.csv: the file is empty"
    ),
    "header without rows": Case(
        {"customers.csv": "customer_id,signup_ts\n"},
        "{tmp}/customers.csv: no data rows (only a header)",
    ),
    "line with an extra field": Case(
        {"customers.csv": CUSTOMERS, "orders.csv": ORDERS + "o2,c1,2024-02-01,10,oops\n"},
        "{tmp}/orders.csv: cannot read as CSV: CSV Error on Line: 3; "
        "Original Line: o2,c1,2024-02-01,10,oops; Expected Number of Columns: 4 Found: 5",
    ),
    "repeated header column": Case(
        {"customers.csv": "customer_id,signup_ts,customer_id\nc1,2024-01-01,c1\n"},
        "{tmp}/customers.csv: the header repeats column(s) customer_id",
    ),
    "missing file": Case(
        {"customers.csv": CUSTOMERS},
        "{tmp}/orders.csv: no such file or folder",
        tables={
            "orders": {
                "source": "orders",
                "columns": {c: c for c in ("order_id", "customer_id", "ts", "revenue")},
            }
        },
    ),
    "grouped column not aggregated": Case(
        {"orders.csv": ORDERS},
        "mapping 't', table 'customers', column 'signup_ts' = `ts`: column \"ts\" must appear "
        "in the GROUP BY clause or must be part of an aggregate function.; Either add it to the "
        'GROUP BY list, or use ANY_VALUE("ts") if the exact value of "ts" is not important.',
        tables={
            "customers": {
                "source": "orders",
                "group_by": ["customer_id"],
                "columns": {"customer_id": "customer_id", "signup_ts": "ts"},
            },
            "orders": {"source": "orders", "columns": {"order_id": "order_id"}},
        },
    ),
    "where compares text with a number": Case(
        {"customers.csv": CUSTOMERS},
        "mapping 't', table 'customers', where `signup_ts > 2020`: Cannot compare values of "
        "type VARCHAR and type INTEGER_LITERAL - an explicit cast is required",
        tables={
            "customers": {
                "source": "customers",
                "where": "signup_ts > 2020",
                "columns": {"customer_id": "customer_id", "signup_ts": "signup_ts"},
            }
        },
    ),
    "where keeps no rows": Case(
        {"customers.csv": CUSTOMERS},
        "mapping 't', table 'customers': no rows: where `customer_id = 'nobody'` keeps none "
        "of the 1 rows of source 'customers'",
        tables={
            "customers": {
                "source": "customers",
                "where": "customer_id = 'nobody'",
                "columns": {"customer_id": "customer_id", "signup_ts": "signup_ts"},
            }
        },
    ),
}


def _mapping(tmp: Path, case: Case) -> DatasetMapping:
    sources, tables = {}, {}
    for name, content in case.files.items():
        path = tmp / name
        if isinstance(content, pa.Table):
            pq.write_table(content, path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        stem = path.stem
        sources[stem] = {"file": name}
        header = content.split("\n")[0].split(",") if isinstance(content, str) else None
        names = content.column_names if isinstance(content, pa.Table) else header
        if names and names != [""]:
            tables[stem] = {"source": stem, "columns": {c: c for c in names}}
        else:  # unreadable on purpose: any mapping will do, the read fails first
            tables[stem] = {"source": stem, "columns": {"customer_id": "customer_id"}}
    for table, mapping in case.tables.items():
        sources.setdefault(mapping["source"], {"file": f"{mapping['source']}.csv"})
        tables[table] = mapping
    return DatasetMapping.model_validate({"sources": sources, "tables": tables})


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_gives_its_exact_error_or_quarantine_row(con, tmp_path, case):
    mapping = _mapping(tmp_path, case)
    if isinstance(case.expect, str):
        with pytest.raises(ContractError) as err:
            stage_mapping(con, mapping, name="t", base=tmp_path)
        assert str(err.value) == case.expect.replace("{tmp}", str(tmp_path))
        return
    staged = stage_mapping(con, mapping, name="t", base=tmp_path).staged
    result = validate(con, staged, now=NOW, load_id="t")
    rows = result.quarantine.to_pyarrow().to_pylist()
    got = [
        (
            r["table_name"],
            Path(r["source"]).relative_to(tmp_path).as_posix(),
            r["row_number"],
            r["column_name"],
            r["value"],
            r["reason"],
        )
        for r in rows
    ]
    assert got == [case.expect]
    for report in result.reports.values():
        assert report.reconciles


def test_the_corpus_covers_at_least_fifteen_cases():
    assert len(CASES) >= 15
