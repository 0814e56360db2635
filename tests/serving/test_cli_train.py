"""`journey train churn`, `journey promote churn` and `journey tune churn` on a small
simulated warehouse with a temporary MLflow store."""

from typer.testing import CliRunner

from serving.cli import app

PARAMS = """
warehouse: {url: "duckdb:///data/w.duckdb"}
mlflow: {experiment: cli-test}
registry:
  gates:
    churn: {roc_auc: {min: 0.5}}
  promotion:
    churn: {metric: roc_auc}
churn:
  classifier: {n_estimators: 40, n_jobs: 1}
  survival: {max_rows: 3000}
  tune: {n_startup_trials: 1, n_folds: 2, space: {num_leaves: [4, 15]}}
"""


def test_train_promote_and_tune_churn_from_the_command_line(tmp_path):
    (tmp_path / "params.yaml").write_text(PARAMS)
    opts = ["--params", str(tmp_path / "params.yaml")]
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    sim = runner.invoke(app, ["simulate", "--customers", "1500", "--seed", "3", *opts], env=env)
    assert sim.exit_code == 0, sim.output

    trained = runner.invoke(app, ["train", "churn", *opts], env=env)
    assert trained.exit_code == 0, trained.output
    assert "roc_auc_vs_baseline" in trained.output
    assert "registered churn v1 as @challenger" in trained.output
    assert "registered churn_survival v1 as @challenger" in trained.output  # no gates set

    promoted = runner.invoke(app, ["promote", "churn", *opts], env=env)
    assert promoted.exit_code == 0, promoted.output
    assert "churn v1 is the first champion (roc_auc=" in promoted.output

    tuned = runner.invoke(app, ["tune", "churn", "--trials", "3", *opts], env=env)
    assert tuned.exit_code == 0, tuned.output
    assert "best roc_auc=" in tuned.output and "num_leaves:" in tuned.output


def test_promote_names_the_valid_models(tmp_path):
    (tmp_path / "params.yaml").write_text("registry: {promotion: {chrun: {metric: roc_auc}}}\n")
    result = CliRunner().invoke(
        app, ["promote", "chrun", "--params", str(tmp_path / "params.yaml")]
    )
    assert "unknown model 'chrun'. Did you mean 'churn'?" in str(result.exception)
