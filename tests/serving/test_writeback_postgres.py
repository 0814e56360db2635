"""Write-back to a real PostgreSQL server on loopback: idempotent, atomic, typed."""

from __future__ import annotations

import datetime as dt
import math

import pytest

import serving.writeback as wb
from features.io.warehouse import connect
from serving import manifest
from serving.score import score_date
from serving.writeback import open_target

AS_OF = dt.date(2024, 7, 1)
pytestmark = pytest.mark.postgres


def test_predictions_go_to_postgres_replacing_their_date(serving_env, postgres_url, monkeypatch):
    params, url = serving_env
    con = connect(url)
    target = open_target(postgres_url, warehouse_url=url, warehouse=con)
    first = score_date(con, AS_OF, params=params, target=target)
    score_date(con, AS_OF + dt.timedelta(days=1), params=params, target=target)
    again = score_date(con, AS_OF, params=params, target=target)
    back = target.read()
    assert back.groupby("as_of").size().tolist() == [3, 3]
    today = back[back.as_of == AS_OF].set_index("customer_id")
    assert set(today.run_id) == {again.run.run_id} != {first.run.run_id}
    assert today.loc["b", "p_churn"] == pytest.approx(1 - math.exp(-1.2))
    assert today.loc["b", "recommended_action"] == "fit consultation + size advice"
    assert "predictions" not in con.list_tables()  # the warehouse keeps only the manifest
    assert manifest.runs(con).target.iloc[0] == postgres_url

    # A failure after the delete and insert rolls the whole date back.
    real = wb.replace_rows

    def replace_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("connection lost mid-write")

    monkeypatch.setattr(wb, "replace_rows", replace_then_fail)
    with pytest.raises(RuntimeError, match="connection lost"):
        score_date(con, AS_OF, params=params, target=target)
    back = open_target(postgres_url, warehouse_url=url, warehouse=con).read()
    assert back.groupby("as_of").size().tolist() == [3, 3]
    assert set(back[back.as_of == AS_OF].run_id) == {again.run.run_id}
    assert manifest.runs(con).status.tolist()[-1] == "failed"
