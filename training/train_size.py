"""``journey train size``: fit the size recommender, evaluate it out of time, log, register.

The split is the shared one (``training.splits.out_of_time_split``), by order date: the
models learn from the fit outcomes known at the test cutoff and are scored on the orders
of ``[test cutoff, test cutoff + labels.horizon_days)``. The registered model is refitted
on every known outcome when ``size.refit_on_all_data`` (its logged metrics are those of
the fit before the test cutoff).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import mlflow
import numpy as np
import pandas as pd

from features.config import Params, SizeParams
from features.fit_outcomes import make_fit_outcomes, size_guide_orders, split_fit_outcomes
from features.io.warehouse import canonical_tables
from features.sizes import infer_size_kind
from models.pyfunc_size import SizePyfunc, size_signature
from models.size_baseline_1lv import OneLatentSizeBaseline
from models.size_metrics import average_ovr_auc, hit_rate
from models.size_recommender import SizeRecommender
from training import plots_size
from training.registry import register_challenger
from training.result import TrainResult
from training.splits import out_of_time_split
from training.tracking import (
    configure,
    log_figure,
    log_run_context,
    log_training_data,
    pip_requirements,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

NAME = "size"
GUIDE = "size_guide"  # column of the fit-outcome frames: the pick followed a size-guide view


def make_size_recommender(size: SizeParams, seed: int) -> SizeRecommender:
    """The recommender with the hyperparameters of ``params.size``."""
    return SizeRecommender(
        item_prior_sd=size.item_prior_sd, bra_link=size.bra_link, choice_window=size.choice_window,
        pseudocount=size.pseudocount, min_fresh_rate=size.min_fresh_rate, n_em_iter=size.n_em_iter, tol=size.tol,
        max_iter=size.max_iter, guide_col=GUIDE if size.guide_page else None, random_state=seed,
    )  # fmt: skip


def guide_flags(
    tables: Mapping[str, ir.Table], size: SizeParams
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Adds the ``size_guide`` column (``size.guide_page``) to fit-outcome frames; identity
    when ``size.guide_page`` is None."""
    if not size.guide_page:
        return lambda frame: frame
    flags = size_guide_orders(tables, size.guide_page).to_pandas()
    guided = flags.set_index("order_id")["size_guide"].astype(bool)

    def add(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(**{GUIDE: frame["order_id"].map(guided).fillna(False).astype(bool)})

    return add


def evaluate_size(model, baseline, test: pd.DataFrame) -> tuple[dict[str, float], np.ndarray]:
    """Test-window metrics of the model against the 1-LV baseline, and the model's proba."""
    proba = model.predict_fit_proba(test)
    auc, auc_1lv = (average_ovr_auc(test["fit"], p) for p in (proba, baseline.predict_fit_proba(test)))  # fmt: skip
    advised = model.recommend(test.drop(columns="size"))
    metrics = {
        "avg_auc": auc,
        "baseline_1lv_avg_auc": auc_1lv,
        "avg_auc_vs_baseline": auc - auc_1lv,
        "hit_rate": hit_rate(test["size"], advised["recommended_size"], test["fit"]),
        "baseline_1lv_hit_rate": hit_rate(
            test["size"], baseline.recommend(test)["recommended_size"], test["fit"]
        ),
        "test_new_customer_share": float(advised["is_new_customer"].mean()),
    }
    return metrics, proba


def log_size_plots(model, test: pd.DataFrame, proba: np.ndarray) -> None:
    """Fit-outcome calibration; recommended against bought sizes per size system."""
    log_figure(
        plots_size.plot_fit_calibration(plots_size.fit_calibration_table(test["fit"], proba)),
        "plots/fit_calibration.png",
    )
    advised = model.recommend(test.drop(columns="size"))["recommended_size"].to_numpy()
    systems = test["category"].map(model.category_system_).to_numpy()
    shares = {
        s: plots_size.size_shares(
            test["size"].to_numpy()[systems == s],
            advised[systems == s],
            infer_size_kind(test["size"][systems == s]),
        )
        for s in pd.unique(systems)
    }
    log_figure(plots_size.plot_size_distribution(shares), "plots/recommended_vs_bought_sizes.png")


def train_size(con: BaseBackend, params: Params) -> TrainResult:
    """Fit, evaluate against the 1-LV baseline, log to MLflow, register ``size@challenger``."""
    tables = canonical_tables(con)
    split = out_of_time_split(tables, params)
    frames = {n: tables[n].to_pandas() for n in ("orders", "order_lines", "returns")}
    end = split.test_cutoff + pd.Timedelta(days=split.horizon_days)
    data = split_fit_outcomes(
        frames, split.test_cutoff, end, observed_until=split.observed_until,
        return_window_days=params.size.return_window_days,
    )  # fmt: skip
    with_guide = guide_flags(tables, params.size)
    train, test = with_guide(data.train.frame), with_guide(data.test)
    model = make_size_recommender(params.size, params.project.seed).fit(train, train["fit"])
    baseline = OneLatentSizeBaseline(
        l2=params.size.baseline_1lv_l2, max_iter=params.size.baseline_1lv_max_iter
    ).fit(train, train["fit"])
    metrics, proba = evaluate_size(model, baseline, test)
    metrics |= {"train_lines": float(len(train)), "test_lines": float(len(test))}
    configure(params)
    with mlflow.start_run(run_name=NAME) as run:
        log_run_context(params, sections=["size", "training", "registry"], tags={"model": NAME})
        log_training_data(train, name="fit_outcomes", targets="fit", cutoffs=[split.test_cutoff], context="training")  # fmt: skip
        mlflow.log_metrics(metrics)
        mlflow.log_dict({"train": data.train.excluded, "test": data.test_excluded}, "left_out.json")
        log_size_plots(model, test, proba)
        if params.size.refit_on_all_data:
            known = with_guide(make_fit_outcomes(frames, split.observed_until, return_window_days=params.size.return_window_days).frame)  # fmt: skip
            model = make_size_recommender(params.size, params.project.seed).fit(known, known["fit"])
        lines = frames["order_lines"]
        lines = lines[lines["category"].isin(list(model.category_system_))]
        products = dict(zip(lines["product_id"].astype(str), lines["category"].astype(str), strict=True))  # fmt: skip
        example = test[["customer_id", "product_id", "category"]].head(3).astype(str)
        info = mlflow.pyfunc.log_model(
            name="model", python_model=SizePyfunc(model, products), signature=size_signature(),
            input_example=example, pip_requirements=pip_requirements(),
        )  # fmt: skip
        version = register_challenger(info.model_uri, NAME, metrics, params.registry.gates.get(NAME, {}))  # fmt: skip
    return TrainResult(NAME, run.info.run_id, metrics, {NAME: version})


def size_evaluator(con: BaseBackend, params: Params):
    """For ``journey promote size``: a registered recommender's test-window metrics.

    The fit outcomes of lines ordered in the test window, scored by the recommender the
    alias serves. With ``size.refit_on_all_data`` the served models have seen that
    window, so both sides of the comparison are optimistic alike.
    """
    tables = canonical_tables(con)
    split = out_of_time_split(tables, params)
    configure(params)
    frames = {n: tables[n].to_pandas() for n in ("orders", "order_lines", "returns")}
    end = split.test_cutoff + pd.Timedelta(days=split.horizon_days)
    test = split_fit_outcomes(
        frames, split.test_cutoff, end, observed_until=split.observed_until,
        return_window_days=params.size.return_window_days,
    ).test  # fmt: skip
    test = guide_flags(tables, params.size)(test)
    window = f"fit outcomes of {len(test):,} lines ordered {split.test_cutoff:%Y-%m-%d} to {end:%Y-%m-%d}"  # fmt: skip

    def evaluate_uri(uri: str) -> dict[str, float]:
        model = mlflow.pyfunc.load_model(uri).unwrap_python_model().recommender
        advised = model.recommend(test.drop(columns="size"))
        return {
            "avg_auc": average_ovr_auc(test["fit"], model.predict_fit_proba(test)),
            "hit_rate": hit_rate(test["size"], advised["recommended_size"], test["fit"]),
        }

    return window, evaluate_uri
