"""Size recommender on the simulator, whose true sizes and fit oracle are known.

    python -m benchmarks.size [--customers N] [--seed S] [--window test|validation]

Simulates the brand, builds fit outcomes from orders, lines and returns, and splits out
of time by order date with the shared split (``training.splits``): the models learn from
the outcomes known at the test cutoff (lines that may still come back are left out) and
are scored on the orders of ``[test cutoff, + labels.horizon_days)``. ``--window
validation`` scores the window before it instead (``size_validation.json``), for looking
at the model without touching the test window. Figures (``benchmarks/results/size.json``,
plot ``size.png``):

- ``avg_auc`` / ``baseline_1lv_avg_auc``: mean one-vs-rest AUC of the recorded outcome,
  latent model vs our 1-LV (target: ratio >= 1.07);
- ``hit_rate``: kept test purchases bought in the size recommended without her pick;
- ``fit_return_reduction``: the oracle's expected fit-return rate if customers had bought
  the size advised at add-to-cart (given the size they picked and whether the order's
  session viewed the size guide) vs what they bought (target >= 0.40), by segment, beside
  the ceilings of buying her true size and of the oracle's best size given her true size
  and the product's offset (``benchmarks/size_ceiling``: the best advice from what is
  observable);
- ``true_size_recovery``: exact band and cup for customers with >= 3 bra purchases
  (orders with a bra), from a fit on every outcome known at the end (target >= 0.85),
  beside ``last_bought_size_recovery`` (her own latest size) and the same by bra lines;
- ``stage2_*``: a LightGBM classifier on latent and history features vs the latent model.
"""

from __future__ import annotations

import argparse
import datetime as dt

import ibis
import lightgbm as lgb
import matplotlib
import numpy as np
import pandas as pd
import pyarrow as pa

from benchmarks.common import RESULTS, peak_rss_gb, timed, write_results
from features.config import load_params
from features.contract.schema import BRA_BANDS, BRA_CUPS, FIT_FEEDBACK
from features.fit_outcomes import make_fit_outcomes, size_guide_orders, split_fit_outcomes
from features.simulate import fit_probabilities, simulate
from features.simulate.fit import ALPHA
from features.sizes import size_coordinates
from models.size_baseline_1lv import OneLatentSizeBaseline
from models.size_metrics import average_ovr_auc, fit_return_rates, hit_rate, true_size_recovery
from models.size_recommender import SizeRecommender
from training.splits import out_of_time_split
from training.train_size import make_size_recommender

matplotlib.use("Agg")
KEYS = ["customer_id", "product_id", "category", "size"]


def recommender(p) -> SizeRecommender:
    """The recommender ``journey train size`` fits (``params.size``)."""
    return make_size_recommender(p.size, p.project.seed)


def guided_orders(tables: dict[str, pd.DataFrame], page: str) -> pd.Series:
    """Per ``order_id``: whether its purchase session viewed the size guide (observable),
    by the feature ``journey train size`` uses (``size_guide_orders``)."""
    t = {k: ibis.memtable(tables[k]) for k in ("events", "orders")}
    flags = ibis.duckdb.connect().to_pandas(size_guide_orders(t, page))
    return flags.set_index("order_id")["size_guide"].astype(bool)


def oracle_best_sizes(frame: pd.DataFrame, oracle) -> np.ndarray:
    """Per row, the size of highest true P(fit) given her true size and the product's offset."""
    labels = {
        True: [f"{b}{c}" for b in BRA_BANDS for c in BRA_CUPS],
        False: list(ALPHA),
    }
    best = np.empty(len(frame), dtype=object)
    is_bra = (frame["category"] == "bra").to_numpy()
    for kind in (True, False):
        rows = frame[is_bra == kind]
        if rows.empty:
            continue
        p_fit = np.column_stack([oracle(rows.assign(size=s))[:, 1] for s in labels[kind]])
        best[is_bra == kind] = np.asarray(labels[kind])[p_fit.argmax(axis=1)]
    return best


def make_oracle(truth: dict[str, pd.DataFrame], fit_params):
    """``fit_probabilities`` of the simulator for rows of (customer, product, category, size)."""
    customers = truth["truth_customers"].set_index("customer_id")
    offsets = truth["truth_products"].set_index("product_id")["size_offset"]

    def oracle(frame: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(frame), 3))
        is_bra = (frame["category"] == "bra").to_numpy()
        for mask, col in ((is_bra, "true_size"), (~is_bra, "true_alpha")):
            rows = frame[mask]
            if len(rows):
                p = fit_probabilities(
                    customers.loc[rows["customer_id"], col].to_numpy(),
                    rows["size"].to_numpy(),
                    offsets.loc[rows["product_id"]].to_numpy(),
                    fit=fit_params,
                )
                out[mask] = np.column_stack(p)
        return out

    return oracle


def history_features(history: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Per row: her earlier outcomes, exploration, recency, size drift (history only)."""
    h = history.assign(
        small=history["fit"] == "too_small",
        large=history["fit"] == "too_large",
        system=np.where(history["category"] == "bra", "bra", "alpha"),
    )
    per = h.groupby("customer_id", observed=True).agg(
        n_lines=("fit", "size"), share_small=("small", "mean"), share_large=("large", "mean"),
        n_sizes=("size", "nunique"), last_ts=("ts", "max"),
    )  # fmt: skip
    per["exploration"] = per["n_sizes"] / per["n_lines"]
    out = rows[["customer_id"]].join(per, on="customer_id").drop(columns="customer_id")
    out["days_since"] = (rows["ts"] - out.pop("last_ts")).dt.days
    seen = pd.MultiIndex.from_frame(h[["customer_id", "size"]])
    out["bought_before"] = pd.MultiIndex.from_frame(rows[["customer_id", "size"]]).isin(seen)
    return out.astype(float)


def latent_features(model: SizeRecommender, rows: pd.DataFrame) -> pd.DataFrame:
    """The latent model's view of each row: fit probabilities, size gaps, confidence."""
    out = pd.DataFrame(model.predict_fit_proba(rows), columns=["p_small", "p_fit", "p_large"])
    rec = model.recommend(rows, given_picked_size=True)
    out["confidence"], out["n_purchases"] = (
        rec["confidence"].to_numpy(),
        rec["n_purchases"].to_numpy(),
    )
    out["is_bra"] = (rows["category"] == "bra").to_numpy().astype(float)
    out["gap_band"] = out["gap_volume"] = 0.0
    for is_bra, kind in ((True, "bra"), (False, "alpha")):
        mask = out["is_bra"].to_numpy() == is_bra
        bought = size_coordinates(rows["size"].to_numpy()[mask], kind)
        advised = size_coordinates(rec["recommended_size"].to_numpy()[mask], kind)
        gap = bought - advised
        out.loc[mask, "gap_band"] = gap[:, 0]
        out.loc[mask, "gap_volume"] = gap[:, -1]
    return out


def stage2(p, model, train: pd.DataFrame, test: pd.DataFrame, start) -> dict[str, float]:
    """LightGBM on latent + history features, trained out of sample on the last window.

    Its rows are the orders of ``[start - stage2_window_days, start)``, described by a
    latent fit on the orders before them; the test rows by ``model`` (fit before ``start``).
    """
    early_end = start - dt.timedelta(days=p.size.stage2_window_days)
    early, late = train[train["ts"] < early_end], train[train["ts"] >= early_end]
    early_model = recommender(p).fit(early, early["fit"])
    X_late = pd.concat([latent_features(early_model, late), history_features(early, late).reset_index(drop=True)], axis=1)  # fmt: skip
    X_test = pd.concat([latent_features(model, test), history_features(train, test).reset_index(drop=True)], axis=1)  # fmt: skip
    y = pd.Categorical(late["fit"], categories=FIT_FEEDBACK).codes
    clf = lgb.LGBMClassifier(
        n_estimators=300, learning_rate=0.03, num_leaves=15, min_child_samples=50,
        random_state=p.project.seed, verbose=-1,
    )  # fmt: skip
    clf.fit(X_late, y)
    return {
        "stage2_avg_auc": round(average_ovr_auc(test["fit"], clf.predict_proba(X_test)), 4),
        "stage2_train_rows": len(late),
    }


def plot(path, recovery_by_n: pd.Series, calibration: pd.DataFrame) -> None:
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.bar(recovery_by_n.index.astype(str), recovery_by_n.to_numpy())
    a.set(xlabel="bra orders", ylabel="exact band and cup recovered", ylim=(0, 1))
    b.plot([0, 1], [0, 1], color="grey", lw=1)
    b.plot(calibration["confidence"], calibration["correct"], marker="o")
    b.set(xlabel="size confidence (binned)", ylabel="share right", xlim=(0, 1), ylim=(0, 1))
    fig.suptitle("Size recommender on the simulator")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def window(p, tables: dict[str, pa.Table], which: str):
    """``(start, end, observed_until)`` of the test window, or of the validation window.

    The test window is the shared split's (``training.splits``); the validation window is
    the ``labels.horizon_days`` before it, with outcomes known by the test cutoff, for
    looking at the model without touching the test window.
    """
    split = out_of_time_split({k: ibis.memtable(v) for k, v in tables.items()}, p)
    step = dt.timedelta(days=split.horizon_days)
    if which == "test":
        return split.test_cutoff, split.test_cutoff + step, split.observed_until
    return split.test_cutoff - step, split.test_cutoff, split.test_cutoff


def fit_returns(test, advice, plain, own, oracle) -> dict[str, float]:
    """Oracle fit-return rates of advice, overall and by segment, beside ceilings.

    Ceilings: buying her true size, and the oracle's best size given her true size and the
    product's offset (``benchmarks/size_ceiling`` bounds what is observable).
    """
    best = oracle_best_sizes(test, oracle)
    returns = fit_return_rates(test, advice["recommended_size"].to_numpy(), oracle)
    returning = ~advice["is_new_customer"].to_numpy()
    seasoned = advice["n_purchases"].to_numpy() >= 3
    out = {
        "fit_return_reduction": returns["reduction"],
        "fit_return_rate_bought": returns["bought"],
        "fit_return_rate_advised": returns["recommended"],
        "fit_return_reduction_without_pick": fit_return_rates(
            test, plain["recommended_size"].to_numpy(), oracle
        )["reduction"],
        "fit_return_reduction_ceiling_true_size": fit_return_rates(test, own, oracle)["reduction"],
        "fit_return_reduction_ceiling_oracle": fit_return_rates(test, best, oracle)["reduction"],
        "test_share_returning_customers": float(returning.mean()),
    }
    for name, mask in (("returning_customers", returning), ("3plus_purchases", seasoned)):
        if mask.any():
            rec = advice["recommended_size"].to_numpy()[mask]
            out[f"fit_return_reduction_{name}"] = fit_return_rates(test[mask], rec, oracle)[
                "reduction"
            ]
            out[f"fit_return_reduction_ceiling_{name}"] = fit_return_rates(test[mask], own[mask], oracle)["reduction"]  # fmt: skip
            out[f"fit_return_reduction_oracle_{name}"] = fit_return_rates(test[mask], best[mask], oracle)["reduction"]  # fmt: skip
    return {k: round(v, 4) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--window", choices=("test", "validation"), default="test")
    parser.add_argument("--no-stage2", action="store_true", help="skip the LightGBM stage")
    args = parser.parse_args()
    p = load_params("params.yaml")
    stages: dict[str, float] = {}
    with timed(stages, "simulate_s"):
        data = simulate(p.simulate, customers=args.customers, seed=args.seed)
        tables = {
            k: data.tables[k].to_pandas() for k in ("orders", "order_lines", "returns", "events")
        }
        guide = guided_orders(tables, p.size.guide_page or "size_guide")
        truth = {k: v.to_pandas() for k, v in data.truth.items() if k != "truth_segments"}
    start, end, until = window(p, data.tables, args.window)
    split = split_fit_outcomes(
        tables, start, end, observed_until=until, return_window_days=p.size.return_window_days
    )
    train, test = (
        f.assign(size_guide=f["order_id"].map(guide).fillna(False).astype(bool))
        for f in (split.train.frame, split.test)
    )
    oracle = make_oracle(truth, p.simulate.fit)

    model = recommender(p)
    with timed(stages, "fit_s"):
        model.fit(train, train["fit"])
    with timed(stages, "fit_1lv_s"):
        baseline = OneLatentSizeBaseline(
            l2=p.size.baseline_1lv_l2, max_iter=p.size.baseline_1lv_max_iter
        ).fit(train, train["fit"])
    auc = average_ovr_auc(test["fit"], model.predict_fit_proba(test))
    auc_1lv = average_ovr_auc(test["fit"], baseline.predict_fit_proba(test))
    plain = model.recommend(test.drop(columns="size"))
    advice = model.recommend(test, given_picked_size=True)
    is_bra = (test["category"] == "bra").to_numpy()
    customers = truth["truth_customers"].set_index("customer_id")
    own = np.where(
        is_bra,
        customers.loc[test["customer_id"], "true_size"].to_numpy(),
        customers.loc[test["customer_id"], "true_alpha"].to_numpy(),
    )
    returns = fit_returns(test, advice, plain, own, oracle)

    frame = make_fit_outcomes(tables, until, return_window_days=p.size.return_window_days).frame
    frame["size_guide"] = frame["order_id"].map(guide).fillna(False).astype(bool)
    with timed(stages, "fit_all_s"):
        full = recommender(p).fit(frame, frame["fit"])
    # A purchase is an order: the lines of one order are one size decision (she learns
    # between orders), as in the simulator's README baseline.
    bra_lines = frame[frame["category"] == "bra"]
    bras = bra_lines.groupby("customer_id", observed=True)["order_id"].nunique()
    bra_line_counts = bra_lines.groupby("customer_id", observed=True).size()
    est = full.predict_true_size(bras.index, "bra").set_index("customer_id")
    right = est["size"] == customers.loc[est.index, "true_size"]
    ids = bras[bras >= 3].index
    recovery = true_size_recovery(est.loc[ids, "size"], customers.loc[ids, "true_size"])
    ids_lines = bra_line_counts[bra_line_counts >= 3].index
    recovery_lines = true_size_recovery(est.loc[ids_lines, "size"], customers.loc[ids_lines, "true_size"])  # fmt: skip
    last = bra_lines.sort_values(["ts", "line_id"]).groupby("customer_id", observed=True)["size"].last()  # fmt: skip
    by_n = right.groupby(bras.clip(upper=6)).mean()
    bins = pd.cut(est["confidence"], np.linspace(0, 1, 11))
    calibration = pd.DataFrame({"confidence": est["confidence"], "correct": right}).groupby(bins, observed=True).mean()  # fmt: skip
    second: dict[str, float] = {}
    if not args.no_stage2:
        with timed(stages, "stage2_s"):
            second = stage2(p, model, train, test, start)
            second["stage2_beats_latent"] = second["stage2_avg_auc"] > auc
    bra = model.systems_["bra"].fit.link
    plot(RESULTS / f"size{'' if args.window == 'test' else '_validation'}.png", by_n, calibration)
    write_results(
        "size" if args.window == "test" else "size_validation",
        {
            "customers": data.customers,
            "window": f"{args.window}: orders in [{start:%Y-%m-%d}, {end:%Y-%m-%d}), outcomes known by {until:%Y-%m-%d}",  # fmt: skip
            "train_lines": len(train),
            "test_lines": len(test),
            "train_left_out": split.train.excluded,
            "avg_auc": round(auc, 4),
            "baseline_1lv_avg_auc": round(auc_1lv, 4),
            "auc_ratio": round(auc / auc_1lv, 3),
            "hit_rate": round(hit_rate(test["size"], plain["recommended_size"], test["fit"]), 4),
            "baseline_1lv_hit_rate": round(
                hit_rate(test["size"], baseline.recommend(test)["recommended_size"], test["fit"]), 4
            ),
            "true_size_recovery": round(recovery, 4),
            "true_size_recovery_customers": len(ids),
            "last_bought_size_recovery": round(
                float((last.loc[ids] == customers.loc[ids, "true_size"]).mean()), 4
            ),  # fmt: skip
            "true_size_recovery_3plus_bra_lines": round(recovery_lines, 4),
            "true_size_recovery_3plus_bra_lines_customers": len(ids_lines),
            "last_bought_size_recovery_3plus_bra_lines": round(
                float((last.loc[ids_lines] == customers.loc[ids_lines, "true_size"]).mean()), 4
            ),  # fmt: skip
            "recovery_by_bra_orders": {str(k): round(v, 4) for k, v in by_n.items()},
            **returns,
            **second,
            "bra_link": {
                "slope": round(float(bra.slope[0]), 3),
                "half_width": round(float(bra.half_width[0]), 3),
                "band_weight": round(bra.band_weight, 3),
                "report_rate": round(bra.report_rate, 3),
            },  # fmt: skip
            "simulator_fit": p.simulate.fit.model_dump(
                include={
                    "band_weight",
                    "threshold",
                    "noise_scale",
                    "return_if_misfit",
                    "feedback_rate",
                }
            ),  # fmt: skip
            "em_iterations": model.n_iter_,
            **stages,
            "peak_rss_gb": round(peak_rss_gb(), 2),
        },
    )


if __name__ == "__main__":
    main()
