"""Score one date: features as of its midnight -> the four champions -> predictions, in one go.

``score_date`` is the whole nightly unit of work:

1. record the run as ``running`` in ``scoring_runs`` (and mark runs a dead process left
   ``running`` as failed);
2. resolve ``models:/<name>@champion`` for churn, churn_survival, clv and size, and check
   every signature against the features before predicting anything;
3. build the features as of the date with the training code
   (:func:`features.store.feature_snapshot`), keep the active customers, predict in batches;
4. in one transaction: replace the date's predictions, its drift rows, and mark the run
   succeeded. On any error the transaction rolls back and the run is marked failed.

Callers hold the scoring lock (:mod:`serving.lock`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from features.builders import feature_reasons
from features.config import Params
from features.errors import JourneyError, unknown_name_message
from features.io.warehouse import canonical_tables, transaction
from features.store import active_mask, feature_snapshot
from serving import manifest
from serving.drift import measure_drift, write_drift
from serving.manifest import FAILED, SUCCEEDED, RunRecord
from serving.models import (
    Champion,
    check_inputs,
    load_reference,
    predict_batches,
    resolve_champions,
)
from serving.predictions import (
    AS_OF,
    KEY,
    REASON_FEATURES,
    REASONS,
    assemble_predictions,
    risk_order,
)
from serving.writeback import Target, is_warehouse, open_target, redact

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

STAGES = (
    "models",
    "features",
    "churn",
    "churn_survival",
    "clv",
    "size",
    "reasons",  # only when more customers are active than serving.reasons_top_n
    "assemble",
    "drift",
    "write",
)


class ScoringError(JourneyError):
    """A scoring run failed; the message says where and why, and nothing was written."""


@dataclass
class ScoreResult:
    run: RunRecord
    target: str
    predictions: pa.Table | None = None

    @property
    def rows_out(self) -> int:
        return self.run.rows_out or 0


def default_as_of(today: dt.date | None = None) -> dt.date:
    """Yesterday (UTC): the last complete day."""
    today = today or dt.datetime.now(dt.UTC).date()
    return today - dt.timedelta(days=1)


def feature_digest(frame: pd.DataFrame) -> str:
    """A content digest of the scored features: same rows and values, same digest."""
    h = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    if len(frame):
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def check_actions(params: Params) -> None:
    """Every feature an action rule names must be a feature the builders make."""
    known = feature_reasons(params)
    for rule in params.serving.actions:
        for feature in rule.features:
            if feature not in known:
                raise JourneyError(
                    f"serving.actions rule {rule.action!r}: "
                    + unknown_name_message("feature", feature, known)
                )


def build_active_features(
    con: BaseBackend, as_of: dt.date, params: Params
) -> tuple[pd.DataFrame, int]:
    """The active customers' features as of ``as_of`` (sorted by id) and the snapshot's size."""
    try:
        snapshot = feature_snapshot(canonical_tables(con), as_of, params=params)
        frame = snapshot.to_pyarrow().to_pandas()
    except JourneyError:
        raise
    except Exception as err:  # unreadable inputs: corrupt Parquet behind a view, lost files
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ScoringError(
            f"building features as of {as_of:%Y-%m-%d} failed reading the warehouse: "
            f"{type(err).__name__}: {msg}"
        ) from err
    frame = frame.sort_values(KEY, kind="stable").reset_index(drop=True)
    active = frame[active_mask(frame, params.serving.active_within_days)].reset_index(drop=True)
    return active, len(frame)


@contextmanager
def _stage(run: RunRecord, name: str, progress: Callable[[str], None] | None) -> Iterator[None]:
    if progress is not None:
        progress(name)
    start = time.perf_counter()
    try:
        yield
    finally:
        run.stage_seconds[name] = run.stage_seconds.get(name, 0.0) + time.perf_counter() - start


def _predict_all(
    champions: Mapping[str, Champion],
    features: pd.DataFrame,
    params: Params,
    run: RunRecord,
    progress: Callable[[str], None] | None,
) -> pd.DataFrame:
    size_input = features[[KEY]].assign(category=params.serving.size_category)
    inputs = {role: size_input if role == "size" else features for role in champions}
    for role, champion in champions.items():  # check all before predicting any
        check_inputs(champion, list(inputs[role].columns))
    top_n = params.serving.reasons_top_n or len(features)
    limited = len(features) > top_n and "churn" in champions
    rows = params.serving.batch_rows
    scored = features[[KEY]].copy()
    for role, champion in champions.items():
        with _stage(run, role, progress):
            opts = {"reasons": False} if role == "churn" and limited else None
            out = predict_batches(champion, inputs[role], batch_rows=rows, params=opts)
            scored = pd.concat([scored, out.drop(columns=[KEY])], axis=1)
    if limited:
        with _stage(run, "reasons", progress):
            scored = _reasons_for_top(champions["churn"], features, scored, top_n, rows)
    return scored


def _reasons_for_top(
    churn: Champion, features: pd.DataFrame, scored: pd.DataFrame, top_n: int, batch_rows: int
) -> pd.DataFrame:
    """Churn reasons for the ``top_n`` rows by value at risk; null for the rest."""
    reason_cols = [*REASONS, *REASON_FEATURES]
    top = np.sort(risk_order(scored)[:top_n])
    out = predict_batches(churn, features.iloc[top], batch_rows=batch_rows)
    scored = scored.copy()
    for col in reason_cols:
        values = np.full(len(scored), None, dtype=object)
        values[top] = out[col].to_numpy(dtype=object)
        scored[col] = values
    return scored


def score_date(
    con: BaseBackend,
    as_of: dt.date,
    *,
    params: Params,
    target: Target | None = None,
    champions: Mapping[str, Champion] | None = None,
    progress: Callable[[str], None] | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> ScoreResult:
    """Score every active customer as of ``as_of`` and replace that date's predictions.

    Idempotent (re-scoring a date replaces its rows) and atomic (predictions, drift and the
    run's success commit together). Raises after marking the run failed. Drift never fails
    the run: it is flagged in the manifest (the CLI exits non-zero if configured).
    """
    target = target or open_target(
        params.serving.writeback_url, warehouse_url=params.warehouse.url, warehouse=con
    )
    manifest.abandon_running(con)
    run = RunRecord(as_of=as_of, target=redact(target.url))
    manifest.start(con, run)
    try:
        with _stage(run, "models", progress):
            check_actions(params)
            champions = champions or resolve_champions(params)
            run.models = {role: c.label for role, c in champions.items()}
        with _stage(run, "features", progress):
            features, run.rows_in = build_active_features(con, as_of, params)
            run.rows_scored = len(features)
            run.feature_digest = feature_digest(features)
        scored = _predict_all(champions, features, params, run, progress)
        with _stage(run, "assemble", progress):
            s = params.serving
            rows = assemble_predictions(
                scored,
                as_of=as_of,
                tiers=s.tiers,
                rules=s.actions,
                default_action=s.default_action,
                models=run.models,
                run_id=run.run_id,
            )
        with _stage(run, "drift", progress):
            churn = champions["churn"]
            drift = measure_drift(
                load_reference(churn),
                features.drop(columns=[KEY, AS_OF], errors="ignore"),
                {"p_churn": scored["p_churn"]} if "p_churn" in scored else {},
                params=s.drift,
                run_id=run.run_id,
                as_of=as_of,
                model=churn.label,
            )
            run.warnings += drift.warnings
            run.drift_flagged = bool(drift.flagged)
        with _stage(run, "write", progress):
            run.rows_out = rows.num_rows
            if is_warehouse(target, con):
                with transaction(con):
                    target.replace_date(as_of, rows)  # type: ignore[union-attr]
                    write_drift(con, drift, as_of=as_of)
                    manifest.finish(con, run, status=SUCCEEDED)
            else:
                target.write(as_of, rows)
                with transaction(con):
                    write_drift(con, drift, as_of=as_of)
                    manifest.finish(con, run, status=SUCCEEDED)
    except BaseException as err:
        if run.status != SUCCEEDED:
            run.rows_out = None  # nothing was written
            try:
                manifest.finish(con, run, status=FAILED, error=f"{type(err).__name__}: {err}")
            except Exception:  # the original error matters more
                pass
        raise
    return ScoreResult(run=run, target=redact(target.url), predictions=rows)
