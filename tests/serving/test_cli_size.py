"""`journey train size` and `journey recommend-size` on a small simulated warehouse."""

import mlflow
from typer.testing import CliRunner

from serving.cli import app

ENV = {"COLUMNS": "200"}


def test_train_then_recommend_falls_back_to_the_challenger(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(
        f'warehouse: {{url: "duckdb:///{tmp_path}/w.duckdb"}}\n'
        "mlflow: {experiment: test}\n"
        "size: {n_em_iter: 10, refit_on_all_data: false}\n"
        "registry: {gates: {size: {avg_auc: {min: 0.5}}}}\n"
    )
    runner = CliRunner()
    args = ["--params", str(params)]
    sim = runner.invoke(app, ["simulate", "--customers", "300", "--seed", "2", *args], env=ENV)
    assert sim.exit_code == 0, sim.output
    trained = runner.invoke(app, ["train", "size", *args], env=ENV)
    assert trained.exit_code == 0, trained.output
    assert "avg_auc" in trained.output and "baseline_1lv_avg_auc" in trained.output
    assert "size v1 @challenger" in trained.output

    ask = ["recommend-size", "--customer", "nobody", "--category", "bra", *args]
    first = runner.invoke(app, ask, env=ENV)
    assert first.exit_code == 0, first.output
    assert "no size@champion yet: using size@challenger (v1)" in first.output
    assert "new customer: most customers take" in first.output
    assert "in this category (bra)" in first.output
    for col in ("recommended_size", "p_fit", "p_too_small", "p_too_large", "size_confidence"):
        assert col in first.output

    mlflow.MlflowClient().set_registered_model_alias("size", "champion", "1")
    second = runner.invoke(app, ask, env=ENV)
    assert second.exit_code == 0, second.output
    assert "models:/size@champion, v1" in second.output and "note:" not in second.output

    both = runner.invoke(app, [*ask, "--product", "p1"], env=ENV)
    assert both.exit_code != 0 and "exactly one of --product and --category" in str(both.exception)


def test_recommend_without_a_model_says_what_to_do(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("mlflow: {experiment: test}\n")
    args = ["recommend-size", "--customer", "c1", "--category", "bra", "--params", str(params)]
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code != 0
    assert "train one with `journey train size`" in str(result.exception)
