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
  1998-01-01, so nothing overlaps the test window;
- ``churn_classifier_bgnbd_blend``: the same with the opt-in BG/NBD blend
  (``purchase_model_horizon_days`` = the 181-day horizon).

``python -m benchmarks._cdnow_churn --validation`` scores the same recipe one step earlier
(boosted on 1997-02-01..03-01, calibrated on 1997-04-01, scored at 1997-07-01 whose labels
end 1997-12-29): the window on which the classifier's options were chosen.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from features.config import Params, load_params
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
VALIDATION_TRAIN_CUTOFFS = [dt.datetime(1997, m, 1) for m in (2, 3, 4)]
VALIDATION_CUTOFF = dt.datetime(1997, 7, 1)
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


def protocol_params(*, blend: bool | None = None) -> Params:
    """The repo's params with the protocol's 181-day label horizon.

    ``blend``: True turns the BG/NBD blend on (at that horizon), False off, None keeps
    ``params.yaml``'s choice (at that horizon when on).
    """
    params = load_params(ROOT / "params.yaml", env={})
    labels = params.labels.model_copy(update={"horizon_days": HORIZON_DAYS})
    classifier = params.churn.classifier
    on = classifier.purchase_model_horizon_days is not None if blend is None else blend
    classifier = classifier.model_copy(
        update={"purchase_model_horizon_days": HORIZON_DAYS if on else None}
    )
    churn = params.churn.model_copy(update={"classifier": classifier})
    return params.model_copy(update={"labels": labels, "churn": churn})


def load_tables(data_dir: Path, params: Params) -> Mapping[str, ir.Table]:
    """CDNOW_master.txt through the adapter and validator into an in-memory warehouse."""
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
    return canonical_tables(con)


def reference_figures(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    """``lr_rfm_reference``: standardized LR on :data:`RFM`, fitted at 1997-07-01 only."""
    rows = train[train[CUTOFF] == np.datetime64(REFERENCE_CUTOFF)]
    ref = RFMLogisticBaseline(columns=RFM).fit(rows[RFM], rows[LABEL].to_numpy())
    return figures(test[LABEL].to_numpy(), ref.predict_proba(test[RFM])[:, 1])


def classifier_figures(train: pd.DataFrame, test: pd.DataFrame, params: Params) -> dict:
    """Our ChurnClassifier with ``params.churn``: boosted on all but the latest train
    cutoff, calibrated on the latest, scored on ``test``."""
    features = list(feature_columns(train, params.churn.exclude_features))
    clf = make_classifier(params.churn, params.project.seed)
    clf.fit(train[features], train[LABEL].to_numpy(), time=train[CUTOFF].to_numpy())
    return figures(test[LABEL].to_numpy(), clf.predict_proba(test[features])[:, 1])


def _frames(
    tables: Mapping[str, ir.Table], params: Params, train_cutoffs: Sequence[dt.datetime], at
) -> tuple[pd.DataFrame, pd.DataFrame]:
    train = build_training_frame(tables, train_cutoffs, params=params)
    return train, build_training_frame(tables, [at], params=params)


def churn_figures(data_dir: Path) -> dict[str, dict]:
    """``{model: {"roc_auc", "brier", "lift_10"}}`` on the test cutoff 1998-01-01."""
    started = time.perf_counter()
    params = protocol_params()
    train, test = _frames(load_tables(data_dir, params), params, TRAIN_CUTOFFS, TEST_CUTOFF)
    out = {
        "lr_rfm_reference": reference_figures(train, test),
        "churn_classifier": classifier_figures(train, test, params),
        "churn_classifier_bgnbd_blend": classifier_figures(
            train, test, protocol_params(blend=True)
        ),
    }
    print(
        f"CDNOW churn: {len(test):,} customers, test churn rate {test[LABEL].mean():.3f}, "
        f"{len(train):,} train rows, {time.perf_counter() - started:.0f} s"
    )
    return out


def validation_figures(data_dir: Path) -> dict[str, dict]:
    """Both classifiers at the validation cutoff 1997-07-01 (see the module docstring)."""
    params = protocol_params()
    tables = load_tables(data_dir, params)
    train, valid = _frames(tables, params, VALIDATION_TRAIN_CUTOFFS, VALIDATION_CUTOFF)
    return {
        "churn_classifier": classifier_figures(train, valid, params),
        "churn_classifier_bgnbd_blend": classifier_figures(
            train, valid, protocol_params(blend=True)
        ),
    }


if __name__ == "__main__":
    import json

    data = ROOT.parent / "shared" / "data"
    run = validation_figures if "--validation" in sys.argv[1:] else churn_figures
    print(json.dumps(run(data), indent=2))
