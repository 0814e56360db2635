"""CDNOW protocol A, churn (``../shared/data/README.md``): no purchase in the 26 weeks after
the cutoff. Wired into ``benchmarks/cdnow.py`` through :func:`churn_figures`.

The data go through the project's path: the ``cdnow`` adapter, the validator, an in-memory
warehouse, the feature builders and the label makers (horizon 181 days:
``[1998-01-01, 1998-07-01)`` at the test cutoff). Models:

- ``lr_rfm_reference``: the README's reference, a standardized logistic regression on RFM
  columns (recency, orders, spend, days since the first order) fitted at the single train
  cutoff 1997-07-01 (labels ``[1997-07-01, 1997-12-29)``);
- ``churn_classifier``: our :class:`ChurnClassifier` with the hyperparameters in
  ``params.yaml`` (nothing tuned on this data), boosted on the monthly cutoffs
  1997-04-01..1997-06-01 and calibrated on 1997-07-01. Every label window ends before
  1998-01-01, so nothing overlaps the test window.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np

from features.config import load_params
from features.frames import CUTOFF, build_training_frame
from features.io.adapters import stage_adapter
from features.io.ingest import load_dataset
from features.io.warehouse import canonical_tables, connect
from models.metrics import brier_score, lift, roc_auc
from models.rfm_baseline import RFMLogisticBaseline
from training.churn_data import LABEL, feature_columns
from training.churn_models import make_classifier

ROOT = Path(__file__).resolve().parents[1]
HORIZON_DAYS = 181
TRAIN_CUTOFFS = [dt.datetime(1997, m, 1) for m in (4, 5, 6, 7)]
REFERENCE_CUTOFF = dt.datetime(1997, 7, 1)
TEST_CUTOFF = dt.datetime(1998, 1, 1)
RFM = ["recency_days", "orders_lifetime", "spend_lifetime", "days_since_first_order"]


def _master(data_dir: Path) -> Path:
    for candidate in (data_dir / "cdnow" / "CDNOW_master.txt", data_dir / "CDNOW_master.txt"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"CDNOW_master.txt not found under {data_dir} (or its cdnow/)")


def figures(y, p) -> dict[str, float]:
    return {
        "roc_auc": round(roc_auc(y, p), 4),
        "brier": round(brier_score(y, p), 4),
        "lift_10": round(lift(y, p, 0.10), 4),
    }


def churn_figures(data_dir: Path) -> dict[str, dict]:
    """``{model: {"roc_auc", "brier", "lift_10"}}`` on the test cutoff 1998-01-01."""
    started = time.perf_counter()
    params = load_params(ROOT / "params.yaml", env={})
    params = params.model_copy(
        update={"labels": params.labels.model_copy(update={"horizon_days": HORIZON_DAYS})}
    )
    con = connect("duckdb:///:memory:")
    dataset = stage_adapter(con, "cdnow", _master(Path(data_dir)), params)
    report = load_dataset(
        con,
        dataset.staged,
        dataset="cdnow",
        now=dt.datetime(2026, 1, 1),
        max_quarantine_share=params.validation.max_quarantine_share,
    )
    if not report.reconciles:
        raise RuntimeError("CDNOW load does not reconcile")
    tables = canonical_tables(con)
    train = build_training_frame(tables, TRAIN_CUTOFFS, params=params)
    test = build_training_frame(tables, [TEST_CUTOFF], params=params)
    y_test = test[LABEL].to_numpy()
    out: dict[str, dict] = {}

    ref_rows = train[train[CUTOFF] == np.datetime64(REFERENCE_CUTOFF)]
    ref = RFMLogisticBaseline(columns=RFM).fit(ref_rows[RFM], ref_rows[LABEL].to_numpy())
    out["lr_rfm_reference"] = figures(y_test, ref.predict_proba(test[RFM])[:, 1])

    features = list(feature_columns(train, params.churn.exclude_features))
    clf = make_classifier(params.churn, params.project.seed)
    clf.fit(train[features], train[LABEL].to_numpy(), time=train[CUTOFF].to_numpy())
    out["churn_classifier"] = figures(y_test, clf.predict_proba(test[features])[:, 1])
    print(
        f"CDNOW churn: {len(test):,} customers, test churn rate {y_test.mean():.3f}, "
        f"{len(train):,} train rows, {time.perf_counter() - started:.0f} s"
    )
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(churn_figures(ROOT.parent / "shared" / "data"), indent=2))
