"""Churn scoring at nightly scale: reasons, calibrated probabilities and survival curves.

``python -m benchmarks.churn_scoring [n_rows]`` (default 1,000,000). Simulated rows; the
models are fitted on 20,000 of them (one LightGBM thread, so figures do not depend on how
busy the machine is), then each scoring step runs on all rows, except SHAP contributions:
LightGBM's TreeSHAP costs about a millisecond per row, so they are timed on 20,000 rows and
``top_reasons`` is timed on all rows with contributions drawn at random. Prints the figures
and writes ``benchmarks/results/churn_scoring.json``.
"""

from __future__ import annotations

import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from models.churn_classifier import ChurnClassifier
from models.churn_cox import ChurnCoxModel
from models.churn_weibull import ChurnWeibullModel
from models.reasons import top_reasons
from models.survival import survival_target

RESULTS = Path(__file__).resolve().parent / "results"


def simulate(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "days_since_last_visit": rng.gamma(2.0, 20.0, n).round(),
            "fit_returns_90d": rng.poisson(0.5, n).astype(float),
            "orders_365d": rng.poisson(3.0, n).astype(float),
            "spend_90d": rng.gamma(2.0, 60.0, n),
            "sessions_30d": rng.poisson(4.0, n).astype(float),
            "channel": pd.Categorical(rng.choice(["web", "store", "app"], n)),
        }
    )
    X.loc[rng.random(n) < 0.1, "days_since_last_visit"] = np.nan
    logit = (
        -2 + 0.03 * X["days_since_last_visit"].fillna(90).to_numpy() + 0.5 * X["fit_returns_90d"]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit - 0.2 * X["orders_365d"])))).astype(int)
    t = np.ceil(rng.exponential(200 * np.exp(-0.5 * (logit + 2)))).clip(1, 365)
    return X, y.to_numpy(), t


def main(n: int) -> dict:
    stages: dict[str, float] = {}

    def timed(name, fn):
        start = time.perf_counter()
        out = fn()
        stages[name] = round(time.perf_counter() - start, 3)
        return out

    X, y, t = simulate(n)
    fit_rows = slice(0, 20_000)
    cutoff = np.repeat(np.arange(4), 5_000)
    clf = timed(
        "fit_classifier_20k",
        lambda: ChurnClassifier(random_state=0, n_jobs=1).fit(
            X[fit_rows], y[fit_rows], time=cutoff
        ),
    )
    target = survival_target(t[fit_rows], t[fit_rows] < 365)
    cox = timed("fit_cox_20k", lambda: ChurnCoxModel().fit(X[fit_rows], target))
    weibull = timed("fit_weibull_20k", lambda: ChurnWeibullModel().fit(X[fit_rows], target))
    timed("predict_proba", lambda: clf.predict_proba(X))
    n_shap = min(n, 20_000)
    timed("predict_contributions_20k", lambda: clf.predict_contributions(X.iloc[:n_shap]))
    rng = np.random.default_rng(1)
    contrib = pd.DataFrame(rng.normal(size=(n, X.shape[1])), columns=X.columns, index=X.index)
    templates = {
        "fit_returns_90d": "{value:.0f} fit returns in 90 days",
        "days_since_last_visit": "no visit in {value:.0f} days",
    }
    reasons = timed("top_reasons_k3", lambda: top_reasons(contrib, X, templates, k=3))
    timed("cox_churn_probability_30_60_90", lambda: cox.predict_churn_probability(X))
    timed("cox_median", lambda: cox.predict_median(X))
    timed("weibull_churn_probability_30_60_90", lambda: weibull.predict_churn_probability(X))
    return {
        "n_rows": n,
        "seconds": stages,
        "contributions_ms_per_row": round(1000 * stages["predict_contributions_20k"] / n_shap, 3),
        "rows_with_a_reason": int(reasons["reason_1"].notna().sum()),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
    }


if __name__ == "__main__":
    figures = main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "churn_scoring.json"
    machine = {"python": platform.python_version(), "platform": platform.platform()}
    path.write_text(json.dumps({**figures, "machine": machine}, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"wrote {path}")
