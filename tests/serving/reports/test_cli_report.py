"""`journey report journeys|kpis` reads the warehouse and writes HTML and JSON."""

import json

import pytest
from typer.testing import CliRunner

from features.config import WAREHOUSE_ENV
from features.errors import JourneyError
from features.io.warehouse import connect
from serving.cli import app


@pytest.fixture
def project(tmp_path, journey_tables, kpi_tables, monkeypatch):
    """A params file whose warehouse holds the journey and KPI fixture tables."""
    monkeypatch.delenv(WAREHOUSE_ENV, raising=False)
    con = connect(f"duckdb:///{tmp_path}/data/warehouse.duckdb")
    for name, table in {**journey_tables, **kpi_tables}.items():
        con.create_table(name, table.to_pyarrow())
    con.disconnect()
    (tmp_path / "params.yaml").write_text(
        "warehouse:\n  url: duckdb:///data/warehouse.duckdb\n"
        "analytics:\n  journeys:\n    funnel_pages: [Home, Checkout]\n"
    )
    return tmp_path


def test_both_reports_write_html_and_json(project, assert_self_contained):
    runner = CliRunner()
    params = str(project / "params.yaml")
    for kind, key in (("journeys", "top_ngrams"), ("kpis", "reorder_retention")):
        out_json = project / f"{kind}.json"
        result = runner.invoke(app, ["report", kind, "--params", params, "--json", str(out_json)])
        assert result.exit_code == 0, result.output
        html = (project / "out" / "reports" / f"{kind}.html").read_text()
        assert_self_contained(html)
        data = json.loads(out_json.read_text())
        assert data["report"] == kind and key in data


def test_out_option_and_warnings(project):
    (project / "params.yaml").write_text(
        "warehouse:\n  url: duckdb:///data/warehouse.duckdb\n"
        "analytics:\n  journeys:\n    funnel_pages: [Nope]\n"
    )
    out = project / "elsewhere" / "j.html"
    result = CliRunner().invoke(
        app, ["report", "journeys", "--params", str(project / "params.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert "warning: funnel: unknown page 'Nope'" in " ".join(result.output.split())


def test_no_warehouse_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.delenv(WAREHOUSE_ENV, raising=False)
    (tmp_path / "params.yaml").write_text("warehouse:\n  url: duckdb:///none.duckdb\n")
    result = CliRunner().invoke(app, ["report", "kpis", "--params", str(tmp_path / "params.yaml")])
    assert isinstance(result.exception, JourneyError)
    assert "no warehouse at" in str(result.exception)


def test_unknown_kind_lists_the_valid_ones(tmp_path):
    result = CliRunner().invoke(app, ["report", "risk"])
    assert result.exit_code == 2
    assert "journeys" in result.output and "kpis" in result.output
