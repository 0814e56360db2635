"""The stored feature table: a date's rows are replaced, other dates are kept."""

import datetime as dt

import pyarrow as pa
import pytest

from features.config import Params
from features.contract.schema import TABLES
from features.errors import EmptyResultError, JourneyError
from features.store import summarize_features, write_features

D = dt.datetime
ROWS = {
    "customers": [
        {"customer_id": "a", "signup_ts": D(2024, 1, 1), "channel": "email"},
        {"customer_id": "b", "signup_ts": D(2024, 6, 15)},
    ],
    "orders": [
        {"order_id": "o1", "customer_id": "a", "ts": D(2024, 5, 1), "revenue": 30.0},
        {"order_id": "o2", "customer_id": "b", "ts": D(2024, 6, 20), "revenue": 10.0},
    ],
}


@pytest.fixture
def warehouse(con):
    for name, table in TABLES.items():
        schema = table.ibis_schema().to_pyarrow()
        con.create_table(name, pa.Table.from_pylist(ROWS.get(name, []), schema=schema))
    return con


def stored(con):
    return con.table("features").order_by(["as_of", "customer_id"]).to_pandas()


def test_rerunning_a_date_replaces_its_rows_and_keeps_other_dates(warehouse):
    params = Params()
    assert write_features(warehouse, dt.date(2024, 7, 1), params=params) == 2
    assert write_features(warehouse, dt.date(2024, 6, 1), params=params) == 1
    assert write_features(warehouse, dt.date(2024, 7, 1), params=params) == 2
    df = stored(warehouse)
    assert [(f"{d:%Y-%m-%d}", c) for d, c in zip(df.as_of, df.customer_id, strict=True)] == [
        ("2024-06-01", "a"),
        ("2024-07-01", "a"),
        ("2024-07-01", "b"),
    ]
    assert df.orders_lifetime.tolist() == [1.0, 1.0, 1.0]


def test_a_date_before_anyone_signed_up_writes_nothing(warehouse):
    write_features(warehouse, dt.date(2024, 7, 1), params=Params())
    with pytest.raises(EmptyResultError, match="no customers had signed up before 2023-01-01"):
        write_features(warehouse, dt.date(2023, 1, 1), params=Params())
    assert len(stored(warehouse)) == 2


def test_other_params_cannot_mix_into_the_table(warehouse):
    write_features(warehouse, dt.date(2024, 7, 1), params=Params())
    other = Params.model_validate({"features": {"windows_days": [14]}})
    with pytest.raises(JourneyError, match=r"other columns \(new: orders_14d"):
        write_features(warehouse, dt.date(2024, 7, 1), params=other)
    assert len(stored(warehouse)) == 2


def test_summary_counts_nulls_and_describes_headline_features(warehouse):
    write_features(warehouse, dt.date(2024, 7, 1), params=Params())
    s = summarize_features(warehouse, dt.date(2024, 7, 1))
    assert (s.rows, s.columns) == (2, 85)
    assert s.null_shares["interpurchase_days_std"] == 1.0
    assert s.null_shares["orders_lifetime"] == 0.0
    assert s.distributions.loc["orders_365d", "mean"] == 1.0
    assert s.categories["channel"].to_dict() == {"email": 0.5, "unknown": 0.5}
