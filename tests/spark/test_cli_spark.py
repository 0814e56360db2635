"""`journey export-parquet`, `journey features|score --engine spark` on a 300-customer slice."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from features.contract.schema import TABLES
from features.errors import JourneyError
from features.io.warehouse import canonical_tables, connect
from serving.cli import app

pytestmark = pytest.mark.spark

ENV = {"COLUMNS": "200"}


def invoke(*args):
    return CliRunner().invoke(app, list(args), env=ENV)


@pytest.fixture
def small(tmp_path, world, champions):
    """300 of the world's customers in their own warehouse; the world's champions."""
    tables = canonical_tables(world.duck)
    ids = tables["customers"].order_by("customer_id").limit(300).select("customer_id")
    keep = {
        "customers": tables["customers"].semi_join(ids, "customer_id"),
        "events": tables["events"].semi_join(ids, "customer_id"),
        "orders": tables["orders"].semi_join(ids, "customer_id"),
        "subscriptions": tables["subscriptions"].semi_join(ids, "customer_id"),
    }
    keep["order_lines"] = tables["order_lines"].semi_join(keep["orders"], "order_id")
    keep["returns"] = tables["returns"].semi_join(keep["order_lines"], "line_id")
    con = connect(f"duckdb:///{tmp_path}/small.duckdb")
    for name, expr in keep.items():
        con.create_table(name, expr.to_pyarrow())
    con.disconnect()
    raw = yaml.safe_load((world.root / "params.yaml").read_text())
    raw["warehouse"] = {"url": f"duckdb:///{tmp_path}/small.duckdb"}
    raw["serving"]["risk_list_dir"] = str(tmp_path / "risk_list")
    raw["spark"] |= {
        "source": str(tmp_path / "canonical"),
        "features": str(tmp_path / "features"),
        "predictions": str(tmp_path / "predictions"),
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return tmp_path


def test_export_then_features_then_score_on_spark(small, spark):
    cfg = str(small / "params.yaml")
    result = invoke("export-parquet", "--params", cfg)
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in TABLES)
    assert re.search(r"customers\s*│\s*300\s*│", result.output)
    assert f"wrote {len(TABLES)} tables to {small / 'canonical'}" in result.output

    result = invoke("features", "--engine", "spark", "--as-of", "2025-12-01", "--params", cfg)
    assert result.exit_code == 0, result.output
    part = small / "features" / "as_of=2025-12-01"
    rows = len(pd.read_parquet(part))
    assert 0 < rows <= 300
    assert f"{rows} customers x" in result.output and "recency_days" in result.output
    assert f"wrote {rows} rows to {small / 'features'}/as_of=2025-12-01" in result.output

    result = invoke("score", "--engine", "spark", "--as-of", "2025-12-01", "--params", cfg)
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(small / "predictions" / "as_of=2025-12-01")
    assert f"active of {rows} customers -> {len(scored)} rows in" in result.output
    assert "churn churn/1" in result.output and "top of the risk list" in result.output
    ranked = pd.read_csv(small / "risk_list" / "risk_list_2025-12-01.csv")
    assert len(ranked) == len(scored) and ranked["rank"].tolist()[:3] == [1, 2, 3]
    assert (small / "risk_list" / "risk_list_2025-12-01.html").is_file()


def test_a_missing_source_names_the_command_that_makes_it(small, spark):
    cfg = str(small / "params.yaml")
    args = ["features", "--engine", "spark", "--as-of", "2025-12-01", "--params", cfg]
    result = invoke(*args, "--source", str(small / "nowhere"))
    assert isinstance(result.exception, JourneyError)
    assert "journey export-parquet" in str(result.exception)
