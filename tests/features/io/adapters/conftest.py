"""Load a dataset with a built-in adapter into the test warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from features.config import load_params
from features.io.adapters import stage_adapter
from features.io.ingest import load_dataset

ROOT = Path(__file__).resolve().parents[4]
NOW = dt.datetime(2026, 1, 1)


@pytest.fixture
def load(con):
    """``load(adapter, path)`` -> ``{table: (read, accepted, quarantined)}``.

    The tables land in ``con``; every table must reconcile.
    """
    params = load_params(ROOT / "params.yaml", env={})

    def run(adapter: str, path: Path) -> dict[str, tuple[int, int, int]]:
        dataset = stage_adapter(con, adapter, path, params)
        report = load_dataset(
            con, dataset.staged, dataset=adapter, now=NOW, max_quarantine_share=0.5
        )
        assert report.reconciles
        return {t: (r.read, r.accepted, r.quarantined) for t, r in report.reports.items()}

    return run
