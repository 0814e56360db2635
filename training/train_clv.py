"""``journey train clv``: fit the hybrid CLV model on the out-of-time split, log, register.

Revenue over ``labels.horizon_days`` is the target. The booster trains on the snapshots
at the train cutoffs (their label windows close by the test cutoff); the dynamics model
(``clv.dynamics``: BG/NBD or Pareto/NBD, x Gamma-Gamma) is refitted on the histories before the test cutoff, where the
level is set; the test window is scored once, after fitting, against the dynamics model
alone as the run's baseline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature

from features.builders import categorical_features
from features.config import Params
from features.frames import CUTOFF, build_training_frame
from features.io.warehouse import canonical_tables
from models import metrics
from models._clv import AGE
from models.clv_bgnbd_gg import BetaGeoCLVModel
from models.clv_boosted import BoostedCLVModel
from models.clv_hybrid import HybridCLVModel
from models.clv_pareto_nbd_gg import ParetoCLVModel
from models.pyfunc_clv import KEY, CLVPyfunc, NewCustomerRates, score_frame
from training import plots, tracking
from training.registry import register_challenger
from training.result import TrainResult
from training.splits import Split, out_of_time_split

NAME = "clv"
DYNAMICS = {"bgnbd": BetaGeoCLVModel, "pareto_nbd": ParetoCLVModel}
LABELS = ("future_revenue", "future_orders")


@dataclass(frozen=True)
class ClvFrames:
    train: pd.DataFrame  # labelled snapshots at the train cutoffs
    test: pd.DataFrame  # the test cutoff's snapshot and its labels

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.drop(columns=[KEY, CUTOFF, *LABELS]).set_index(frame[KEY])


def train_cutoffs(tables, split: Split, params: Params) -> list[dt.datetime]:
    """The split's train cutoffs, plus one ``clv.season_days`` before the test cutoff when
    the data holds a season of purchases before it (the seasonal level's reference)."""
    cutoffs = list(split.train_cutoffs)
    days = params.clv.season_days
    if days is None:
        return cutoffs
    season = split.test_cutoff - dt.timedelta(days=days)
    first = tables["orders"].ts.min().to_pyarrow().as_py()
    if first is not None and season - dt.timedelta(days=days) >= first and season not in cutoffs:
        cutoffs.append(season)
    return sorted(cutoffs)


def build_model(params: Params) -> HybridCLVModel:
    """The hybrid with the settings of ``params.clv`` over ``labels.horizon_days``."""
    p, seed = params.clv, params.project.seed
    booster = BoostedCLVModel(
        n_estimators=p.n_estimators,
        learning_rate=p.learning_rate,
        num_leaves=p.num_leaves,
        min_child_samples=p.min_child_samples,
        random_state=seed,
    )
    dynamics = DYNAMICS[p.dynamics](
        horizon_days=params.labels.horizon_days, n_draws=p.n_draws, random_state=seed
    )
    return HybridCLVModel(
        dynamics=dynamics,
        booster=booster,
        dynamics_weight=p.dynamics_weight,
        dynamics_features=p.dynamics_features,
        season_days=p.season_days,
    )


def fit_hybrid(frames: ClvFrames, params: Params) -> tuple[HybridCLVModel, NewCustomerRates]:
    """Fit on purchasers (train labels, test-cutoff features unlabelled); rates for the rest."""
    train, test = frames.train, frames.test
    bought = train[AGE].notna()
    stacked = pd.concat([train[bought], test[test[AGE].notna()]], ignore_index=True)
    y = np.r_[
        train.loc[bought, "future_revenue"].clip(lower=0),
        np.full(len(stacked) - bought.sum(), np.nan),
    ]
    model = build_model(params).fit(frames.features(stacked), y, time=stacked[CUTOFF].to_numpy())
    new = NewCustomerRates.learn(
        train.loc[~bought, "future_revenue"].clip(lower=0), train.loc[~bought, "future_orders"]
    )
    return model, new


def decile_groups(y, *predictions) -> int:
    """The most groups (10, 5, 4 or 2) in which every prediction's groups have revenue.

    On short horizons the lowest tenth can hold no buyer at all, where decile MAPE is
    undefined; the run then reports it over fewer, larger groups (logged as ``groups``).
    """
    for n in (10, 5, 4, 2):
        tables = [metrics.decile_table(y, p, n_groups=n) for p in predictions]
        if all((t["mean_actual"] > 0).all() for t in tables):
            return n
    return 1


def evaluate(model, new, frames: ClvFrames) -> tuple[dict[str, float], pd.DataFrame]:
    """Test-window metrics of the model and of its dynamics model alone (``baseline_*``)."""
    test = frames.test
    scored = score_frame(model, new, test)
    y = test["future_revenue"].to_numpy()
    baseline = scored["clv"].to_numpy().copy()
    bought = test[AGE].notna().to_numpy()
    baseline[bought] = model.dynamics_.predict(frames.features(test[bought]))
    n = decile_groups(y, scored["clv"], baseline)
    out = metrics.clv_metrics(
        y, scored["clv"], lower=scored["clv_p10"], upper=scored["clv_p90"], n_groups=n
    )
    base = metrics.clv_metrics(y, baseline, n_groups=n)
    out["groups"] = float(n)
    out |= {f"baseline_{k}": v for k, v in base.items()}
    out["abs_total_error_pct"] = abs(out["total_error_pct"])
    out["normalized_gini_vs_baseline"] = out["normalized_gini"] - base["normalized_gini"]
    out["mae_vs_baseline"] = base["mae"] - out["mae"]
    return out, scored.assign(actual=y, baseline=baseline)


def log_plots(model, new, frames: ClvFrames, scored: pd.DataFrame) -> None:
    y = scored["actual"].to_numpy()
    table = metrics.decile_table(y, scored["clv"]).rename(
        columns={"mean_predicted": "predicted", "mean_actual": "actual"}
    )
    tracking.log_figure(plots.plot_deciles(table), "plots/deciles.png")
    gain = {"hybrid": scored["clv"].to_numpy(), "dynamics alone": scored["baseline"].to_numpy()}
    tracking.log_figure(plots.plot_gain_curve(y, gain), "plots/gain_curve.png")
    rows = [
        {
            "cutoff": c,
            "predicted": score_frame(model, new, g)["clv"].sum(),
            "actual": g["future_revenue"].sum(),
        }
        for c, g in frames.train.groupby(CUTOFF)
    ]
    rows.append(
        {"cutoff": frames.test[CUTOFF].iloc[0], "predicted": scored["clv"].sum(), "actual": y.sum()}
    )
    over_time = pd.DataFrame(rows)
    fig = plots.plot_over_time(
        over_time,
        x="cutoff",
        columns=["predicted", "actual"],
        title="total revenue per cutoff (last: test window; others in-sample)",
        ylabel="revenue over the horizon",
    )
    tracking.log_figure(fig, "plots/predicted_vs_actual_over_time.png")
    mlflow.log_table(over_time.astype({"cutoff": str}), "tables/over_time.json")


def log_model(model, new, frames: ClvFrames) -> str:
    """Log the pyfunc with a signature and an input example; return its URI."""
    example = frames.test[[KEY, *model.feature_names_in_]].head(5).copy()
    for col in set(categorical_features()) & set(example.columns):
        example[col] = example[col].astype(object).where(example[col].notna(), None)
    python_model = CLVPyfunc(model, new)
    signature = infer_signature(example, score_frame(model, new, example))
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=python_model,
        signature=signature,
        input_example=example,
        pip_requirements=tracking.pip_requirements(),
    )
    return info.model_uri


def train_clv(con, params: Params) -> TrainResult:
    """Build frames, split by time, fit, evaluate, log to MLflow and register ``clv``."""
    tables = canonical_tables(con)
    split = out_of_time_split(tables, params)

    def frame(cutoffs) -> pd.DataFrame:
        return build_training_frame(
            tables, cutoffs, params=params, label="revenue", observed_until=split.observed_until
        )

    frames = ClvFrames(
        train=frame(train_cutoffs(tables, split, params)), test=frame([split.test_cutoff])
    )
    tracking.configure(params)
    with mlflow.start_run(run_name=NAME) as run:
        tracking.log_run_context(
            params, sections=["clv", "labels", "training"], tags={"split": split.describe()}
        )
        tracking.log_training_data(
            frames.train,
            name="clv_train",
            targets="future_revenue",
            cutoffs=split.train_cutoffs,
            context="training",
        )
        tracking.log_training_data(
            frames.test,
            name="clv_test",
            targets="future_revenue",
            cutoffs=[split.test_cutoff],
            context="testing",
        )
        model, new = fit_hybrid(frames, params)
        scores, scored = evaluate(model, new, frames)
        mlflow.log_metrics(scores | {"level_factor": model.level_factor_})
        log_plots(model, new, frames, scored)
        uri = log_model(model, new, frames)
        version = register_challenger(uri, NAME, scores, params.registry.gates.get(NAME, {}))
    return TrainResult(NAME, run.info.run_id, scores, {NAME: version})


def clv_evaluator(con, params: Params):
    """For ``journey promote clv``: a registered model's metrics on the test window.

    Scores what the alias serves (the pyfunc, fed feature-table rows at the test cutoff)
    against the revenue that followed, as :func:`evaluate` does during training.
    """
    tables = canonical_tables(con)
    split = out_of_time_split(tables, params)
    tracking.configure(params)
    test = build_training_frame(
        tables,
        [split.test_cutoff],
        params=params,
        label="revenue",
        observed_until=split.observed_until,
    )
    X = test.drop(columns=[CUTOFF, *LABELS])
    for col in set(categorical_features()) & set(X.columns):
        X[col] = X[col].astype(object).where(X[col].notna(), None)
    y = test["future_revenue"].to_numpy()
    window = f"test cutoff {split.test_cutoff:%Y-%m-%d}, {len(test):,} customers"

    def evaluate_uri(uri: str) -> dict[str, float]:
        out = mlflow.pyfunc.load_model(uri).predict(X)
        n = decile_groups(y, out["clv"])
        return metrics.clv_metrics(
            y, out["clv"], lower=out["clv_p10"], upper=out["clv_p90"], n_groups=n
        )

    return window, evaluate_uri
