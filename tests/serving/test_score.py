"""score_date against real pyfunc champions in a temporary MLflow store."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from features.io.warehouse import connect
from serving import manifest
from serving.models import ModelError
from serving.score import score_date
from serving.writeback import IbisTarget

AS_OF = dt.date(2024, 7, 1)


def _predictions(con, day=AS_OF):
    t = con.table("predictions")
    return t.filter(t.as_of == day).order_by("customer_id").to_pandas().set_index("customer_id")


def test_scores_active_customers_with_every_column(serving_env):
    params, url = serving_env
    con = connect(url)
    result = score_date(con, AS_OF, params=params)
    run = result.run
    assert run.status == "succeeded"
    # a, b, c signed up before the date and were active within 365 days; d lapsed in 2022.
    assert (run.rows_in, run.rows_scored, run.rows_out) == (4, 3, 3)
    p = _predictions(con)
    assert list(p.index) == ["a", "b", "c"]
    # a: last order 2024-06-21 -> recency 10 days.
    assert p.loc["a", "p_churn"] == pytest.approx(1 - math.exp(-0.1))
    assert p.loc["a", "risk_tier"] == "low"
    assert p.loc["a", "clv"] == 50.0 and p.loc["a", "clv_p90"] == 75.0
    assert p.loc["a", "value_at_risk"] == pytest.approx((1 - math.exp(-0.1)) * 50.0)
    assert p.loc["a", "recommended_action"] == "no action: regular lifecycle messages"
    # b: last order 2024-03-03 -> 120 days; a fit return; last visit 91 days ago.
    assert p.loc["b", "p_churn"] == pytest.approx(1 - math.exp(-1.2))
    assert p.loc["b", "risk_tier"] == "high"
    assert p.loc["b", "reason_1"] == "1 fit return(s) in 90 days"
    assert p.loc["b", "reason_2"] == "no visit in 91 days"
    assert p.loc["b", "recommended_action"] == "fit consultation + size advice"
    assert p.loc["b", "p_churn_90d"] == pytest.approx(1 - math.exp(-0.012 * 90))
    assert p.loc["b", "median_days_to_churn"] == pytest.approx(math.log(2) / 0.012)
    # c: no events yet -> the models' defaults.
    assert p.loc["c", "p_churn"] == 0.5 and p.loc["c", "risk_tier"] == "medium"
    assert p.loc["c", "median_days_to_churn"] == pytest.approx(math.log(2) / 0.005)
    assert math.isnan(p.loc["a", "median_days_to_churn"])  # beyond the curve: inf -> null
    assert p.loc["c", "reason_1"] == "never visited"
    assert p.loc["c", "recommended_action"] == "win-back offer"
    assert p.loc["c", "recommended_size"] == "34C"
    assert json.loads(p.loc["c", "survival_curve"])[0] == 1.0
    assert set(p.churn_model) == {"churn/1"} and set(p.size_model) == {"size/1"}
    assert "email" not in p.columns and "segment" not in p.columns  # PII stays out
    assert set(run.stage_seconds) >= {"models", "features", "churn", "write"}
    assert len(run.feature_digest) == 16


def test_reasons_only_for_the_top_n_by_value_at_risk(serving_env):
    params, url = serving_env
    con = connect(url)
    score_date(con, AS_OF, params=params)
    everyone = _predictions(con)
    top = everyone.value_at_risk.idxmax()
    limited = params.model_copy(
        update={"serving": params.serving.model_copy(update={"reasons_top_n": 1})}
    )
    result = score_date(con, AS_OF, params=limited)
    p = _predictions(con)
    assert p.reason_1.notna().tolist() == (p.index == top).tolist()
    assert p.loc[top, "reason_1"] == everyone.loc[top, "reason_1"]
    assert p.loc[top, "recommended_action"] == everyone.loc[top, "recommended_action"]
    rest = p.drop(index=top)
    assert rest.reason_1_feature.isna().all()
    assert (rest.recommended_action == params.serving.default_action).all()
    assert (p.p_churn == everyone.p_churn).all()  # the probabilities do not change
    assert "reasons" in result.run.stage_seconds


def test_rescoring_a_date_replaces_its_rows(serving_env):
    params, url = serving_env
    con = connect(url)
    first = score_date(con, AS_OF, params=params)
    second = score_date(con, AS_OF, params=params)
    score_date(con, AS_OF + dt.timedelta(days=1), params=params)
    t = con.table("predictions")
    counts = t.group_by("as_of").aggregate(n=t.count()).order_by("as_of").to_pandas()
    assert counts.n.tolist() == [3, 3]
    assert set(_predictions(con).run_id) == {second.run.run_id}
    assert first.run.feature_digest == second.run.feature_digest
    runs = manifest.runs(con)
    assert runs.status.tolist() == ["succeeded"] * 3
    assert json.loads(runs.models.iloc[0]) == {
        "churn": "churn/1",
        "churn_survival": "churn_survival/1",
        "clv": "clv/1",
        "size": "size/1",
    }


def test_a_model_trained_on_other_features_is_refused(serving_env):
    params, url = serving_env
    bad = params.model_copy(
        update={
            "serving": params.serving.model_copy(
                update={
                    "models": params.serving.models.model_copy(
                        update={"churn": "churn_other_features"}
                    )
                }
            )
        }
    )
    con = connect(url)
    score_date(con, AS_OF, params=params)
    with pytest.raises(ModelError, match="features as built do not have: loyalty_points"):
        score_date(con, AS_OF, params=bad)
    assert len(_predictions(con)) == 3  # the earlier rows are intact
    runs = manifest.runs(con)
    assert runs.status.tolist() == ["succeeded", "failed"]
    assert "loyalty_points" in runs.error.iloc[1]


def test_a_missing_alias_is_refused(serving_env):
    params, url = serving_env
    bad = params.model_copy(
        update={
            "serving": params.serving.model_copy(
                update={
                    "models": params.serving.models.model_copy(update={"churn": "churn_unpromoted"})
                }
            )
        }
    )
    con = connect(url)
    with pytest.raises(
        ModelError, match="no 'champion' version of registered model 'churn_unpromoted'"
    ):
        score_date(con, AS_OF, params=bad)
    assert "predictions" not in con.list_tables()


def test_an_empty_day_gives_an_empty_valid_result(serving_env):
    params, url = serving_env
    con = connect(url)
    result = score_date(con, dt.date(2021, 6, 1), params=params)  # before any signup
    assert result.run.status == "succeeded"
    assert result.run.rows_out == 0 and result.predictions.num_rows == 0
    assert con.table("predictions").count().to_pandas() == 0
    assert "p_churn" in con.table("predictions").columns


def test_parquet_target_replaces_only_its_partition(serving_env, tmp_path):
    params, url = serving_env
    con = connect(url)
    target = IbisTarget(url, con)
    from serving.writeback import ParquetTarget

    folder = tmp_path / "preds"
    pq_target = ParquetTarget(folder)
    score_date(con, AS_OF, params=params, target=pq_target)
    score_date(con, AS_OF + dt.timedelta(days=1), params=params, target=pq_target)
    score_date(con, AS_OF, params=params, target=pq_target)
    assert sorted(p.name for p in folder.iterdir()) == ["as_of=2024-07-01", "as_of=2024-07-02"]
    back = pq_target.read()
    assert back.groupby("as_of").size().tolist() == [3, 3]
    assert "predictions" not in con.list_tables()  # nothing went to the warehouse
    assert manifest.runs(con).target.iloc[0] == f"parquet://{folder}"
    del target


def test_a_model_whose_signature_types_differ_is_refused(serving_env):
    params, url = serving_env
    models = params.serving.models.model_copy(update={"churn": "churn_text_recency"})
    bad = params.model_copy(
        update={"serving": params.serving.model_copy(update={"models": models})}
    )
    con = connect(url)
    with pytest.raises(ModelError, match=r"churn_text_recency/1 \(churn\) refused the features"):
        score_date(con, AS_OF, params=bad)
    assert "predictions" not in con.list_tables()
    assert manifest.runs(con).status.tolist() == ["failed"]
