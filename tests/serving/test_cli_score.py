"""`journey score`, `journey nightly` and `journey report drift` end to end on the small warehouse."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.errors import JourneyError
from features.io.warehouse import connect
from serving import manifest
from serving.cli import app
from serving.risk_list import customer_columns

ENV = {"COLUMNS": "200"}


def invoke(*args):
    return CliRunner().invoke(app, list(args), env=ENV)


def test_score_writes_predictions_and_the_risk_list(serving_env):
    params, url = serving_env
    cfg = str(params.root / "params.yaml")
    result = invoke("score", "--as-of", "2024-07-01", "--params", cfg)
    assert result.exit_code == 0, result.output
    assert "scored 2024-07-01: 3 active of 4 customers -> 3 rows" in result.output
    assert "churn churn/1" in result.output
    assert "drift: PSI above 0.2 on recency_days" in result.output
    csv = params.root / "out/risk_list/risk_list_2024-07-01.csv"
    ranked = pd.read_csv(csv, dtype={"customer_id": str})
    # value at risk: b 0.699 x 30 = 21.0, a 0.095 x 50 = 4.8, c 0.5 x 0 = 0.
    assert ranked.customer_id.tolist() == ["b", "a", "c"]
    assert ranked["rank"].tolist() == [1, 2, 3]
    assert ranked.segment.tolist()[:2] == ["core", "vip"]
    assert "email" not in ranked.columns and "survival_curve" not in ranked.columns
    assert (params.root / "out/risk_list/risk_list_2024-07-01.html").is_file()


def test_score_explains_only_the_top_n_from_the_command_line(serving_env):
    params, _ = serving_env
    path = params.root / "params.yaml"
    path.write_text(path.read_text().replace("serving:\n", "serving:\n  reasons_top_n: 1\n", 1))
    result = invoke("score", "--as-of", "2024-07-01", "--params", str(path))
    assert result.exit_code == 0, result.output
    ranked = pd.read_csv(
        params.root / "out/risk_list/risk_list_2024-07-01.csv", dtype={"customer_id": str}
    )
    assert ranked.customer_id.tolist() == ["b", "a", "c"]
    assert ranked.reason_1.notna().tolist() == [True, False, False]


def test_nightly_catches_up_in_order_then_has_nothing_to_do(serving_env):
    params, url = serving_env
    cfg = str(params.root / "params.yaml")
    assert invoke("score", "--as-of", "2024-07-01", "--params", cfg).exit_code == 0
    result = invoke("nightly", "--until", "2024-07-03", "--params", cfg)
    assert result.exit_code == 0, result.output
    assert "scoring 2 date(s): 2024-07-02 .. 2024-07-03" in result.output
    again = invoke("nightly", "--until", "2024-07-03", "--params", cfg)
    assert "nothing to score" in again.output
    runs = manifest.runs(connect(url))
    assert [f"{d:%m-%d}" for d in runs.as_of] == ["07-01", "07-02", "07-03"]
    assert set(runs.status) == {"succeeded"}


def test_report_drift_plots_the_history(serving_env):
    params, url = serving_env
    cfg = str(params.root / "params.yaml")
    invoke("score", "--as-of", "2024-07-01", "--params", cfg)
    out = params.root / "drift.html"
    result = invoke("report", "drift", "--params", cfg, "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "PSI over time" in page and "data:image/png;base64," in page
    assert "PSI above 0.2: " in page


def test_contact_columns_appear_only_when_configured(serving_env):
    params, url = serving_env
    con = connect(url)
    default = customer_columns(con, params)
    assert list(default.columns) == ["customer_id", "segment"]
    with_email = params.model_copy(
        update={"serving": params.serving.model_copy(update={"contact_columns": ["email"]})}
    )
    got = customer_columns(con, with_email).set_index("customer_id")
    assert got.loc["a", "email"] == "a@x.test"
    typo = params.model_copy(
        update={"serving": params.serving.model_copy(update={"contact_columns": ["emial"]})}
    )
    with pytest.raises(JourneyError, match="Did you mean 'email'"):
        customer_columns(con, typo)
