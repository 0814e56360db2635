"""`journey features --as-of DATE` writes the snapshot and prints a summary."""

import datetime as dt

import pyarrow as pa
from typer.testing import CliRunner

from features.builders import feature_families
from features.contract.schema import TABLES
from features.io.warehouse import connect
from serving.cli import app

D = dt.datetime


def test_features_command_writes_and_summarizes(tmp_path):
    url = f"duckdb:///{tmp_path}/w.duckdb"
    (tmp_path / "params.yaml").write_text(f"warehouse:\n  url: {url}\n")
    rows = {
        "customers": [{"customer_id": c, "signup_ts": D(2024, 1, 1)} for c in ("a", "b", "c")],
        "orders": [{"order_id": "o1", "customer_id": "a", "ts": D(2024, 5, 1), "revenue": 5.0}],
    }
    con = connect(url)
    for name, table in TABLES.items():
        schema = table.ibis_schema().to_pyarrow()
        con.create_table(name, pa.Table.from_pylist(rows.get(name, []), schema=schema))
    con.disconnect()

    runner = CliRunner()
    args = ["features", "--as-of", "2024-07-01", "--params", str(tmp_path / "params.yaml")]
    for _ in range(2):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
    n_features = sum(len(names) for names in feature_families().values())
    assert f"3 customers x {n_features} features" in result.output
    assert "recency_days" in result.output and "plan: none 100%" in result.output
    assert "wrote 3 rows to warehouse table `features` (as_of = 2024-07-01)" in result.output
    con = connect(url)
    assert con.table("features").count().to_pandas() == 3


def test_features_command_rejects_a_bad_date(tmp_path):
    result = CliRunner().invoke(app, ["features", "--as-of", "July 1st"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "'July 1st' does not match the formats '%Y-%m-%d'" in result.output
