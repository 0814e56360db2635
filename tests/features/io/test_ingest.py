"""Loading replaces the dataset atomically and records the run."""

import datetime as dt
import json

import pytest

from features.errors import ContractError
from features.io.ingest import load_dataset

NOW = dt.datetime(2026, 1, 1)


def customers(stage, *bad):
    rows = [{"customer_id": f"c{i}", "signup_ts": "2024-01-01"} for i in range(4)]
    rows += [{"customer_id": f"x{i}", "signup_ts": "nope"} for i in range(bad[0] if bad else 0)]
    return stage("customers", rows)


def test_load_replaces_every_canonical_table_and_logs_the_run(con, stage):
    load_dataset(
        con, {"customers": customers(stage, 1)}, dataset="a", now=NOW, max_quarantine_share=0.5
    )
    report = load_dataset(
        con, {"customers": customers(stage)}, dataset="b", now=NOW, max_quarantine_share=0.5
    )
    assert con.table("customers").count().to_pandas() == 4
    assert con.table("quarantine").count().to_pandas() == 0
    assert con.table("orders").count().to_pandas() == 0
    runs = con.table("load_runs").to_pandas()
    assert runs.dataset.tolist() == ["a", "b"]
    assert json.loads(runs.report.iloc[-1]) == [
        {"table": "customers", "read": 4, "accepted": 4, "quarantined": 0}
    ]
    assert report.reconciles


def test_a_mostly_bad_load_is_refused_and_writes_nothing(con, stage):
    load_dataset(
        con, {"customers": customers(stage)}, dataset="good", now=NOW, max_quarantine_share=0.5
    )
    with pytest.raises(
        ContractError, match=r"5 of 9 customers rows fail the contract.*Nothing was loaded"
    ):
        load_dataset(
            con,
            {"customers": customers(stage, 5)},
            dataset="bad",
            now=NOW,
            max_quarantine_share=0.5,
        )
    assert con.table("customers").count().to_pandas() == 4
    assert con.table("load_runs").dataset.to_pandas().tolist() == ["good"]
