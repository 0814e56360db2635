"""``journey simulate`` loads a simulation into the warehouse named by the params file."""

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from serving.cli import app


def test_journey_simulate_loads_contract_and_truth_tables(tmp_path: Path):
    params = tmp_path / "params.yaml"
    params.write_text("warehouse:\n  url: duckdb:///wh.duckdb\n")
    result = CliRunner().invoke(
        app, ["simulate", "--customers", "300", "--seed", "2", "--params", str(params)]
    )
    assert result.exit_code == 0, result.output
    assert "reconciles" in result.output and "return_share" in result.output
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    tables = {
        r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
    }
    assert {"customers", "events", "orders", "truth_customers", "truth_segments"} <= tables
    assert con.execute("select count(*) from customers").fetchone()[0] == 300
    assert con.execute("select count(*) from quarantine").fetchone()[0] == 0


def test_journey_simulate_rejects_a_non_positive_size(tmp_path: Path):
    result = CliRunner().invoke(app, ["simulate", "--customers", "0"])
    assert result.exit_code != 0
