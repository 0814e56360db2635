"""`journey load` and `journey validate` on a small literal dataset."""

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from features.errors import JourneyError
from serving.cli import app

ROOT = Path(__file__).resolve().parents[2]
RETAIL = """\
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom
C536379,D,Discount,-1,12/1/2010 9:41,27.50,17850,United Kingdom
536414,22139,,56,12/1/2010 11:52,0,,United Kingdom
"""


@pytest.fixture
def params(tmp_path) -> Path:
    text = (ROOT / "params.yaml").read_text()
    text = text.replace("duckdb:///data/warehouse.duckdb", "duckdb:///w.duckdb")
    (tmp_path / "params.yaml").write_text(text)
    (tmp_path / "online_retail.csv").write_text(RETAIL)
    return tmp_path / "params.yaml"


def invoke(*args):
    return CliRunner().invoke(app, list(args), catch_exceptions=True)


def test_load_prints_the_reconciliation_and_validate_passes(params, monkeypatch):
    monkeypatch.delenv("JOURNEY_WAREHOUSE", raising=False)
    folder = str(params.parent)
    out = invoke("load", "mapped", folder, "--mapping", "online_retail", "--params", str(params))
    assert out.exit_code == 0, out.output
    table_rows = [line.split() for line in out.output.splitlines() if line.startswith("│")]
    assert ["│", "tx", "│", "3", "│"] in [row[:5] for row in table_rows]
    assert ["│", "orders", "│", "3", "│", "2", "│", "1", "│", "yes", "│"] in table_rows
    assert ["│", "order_lines", "│", "3", "│", "2", "│", "1", "│", "yes", "│"] in table_rows
    assert "orders: 1 x customer_id: required value is missing" in out.output

    checked = invoke("validate", "--params", str(params))
    assert checked.exit_code == 0, checked.output
    assert "every table meets the contract" in checked.output


def test_validate_fails_on_a_violation_in_the_warehouse(params, monkeypatch):
    monkeypatch.delenv("JOURNEY_WAREHOUSE", raising=False)
    invoke(
        "load", "mapped", str(params.parent), "--mapping", "online_retail", "--params", str(params)
    )
    with duckdb.connect(str(params.parent / "w.duckdb")) as db:
        db.execute("UPDATE orders SET revenue = -3, is_refund = false WHERE order_id = '536365'")
    checked = invoke("validate", "--params", str(params))
    assert checked.exit_code == 1
    assert "orders: 1 row(s) violate the contract" in checked.output
    assert "1 x negative_revenue: revenue is negative on an order that is not a" in checked.output


def test_an_unknown_adapter_names_the_closest(params):
    out = invoke("load", "cdnw", str(params.parent), "--params", str(params))
    assert isinstance(out.exception, JourneyError)
    assert str(out.exception) == (
        "unknown adapter 'cdnw'. Did you mean 'cdnow'? Valid: 365, cdnow, dtc, mapped."
    )
