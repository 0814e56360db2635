"""Shared fixtures. Tests mirror the package tree; expensive fixtures are session-scoped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
import pytest

from features.contract import Staged
from features.io.warehouse import connect

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
NOW = dt.datetime(2026, 1, 1)


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA} (clone beside ../shared to run)")
    return SHARED_DATA


@pytest.fixture
def con():
    """An empty in-memory warehouse."""
    return connect("duckdb:///:memory:")


@pytest.fixture
def stage():
    """Build a :class:`Staged` table from literal rows, numbered from 1 like file rows."""

    def make(table: str, rows: list[dict], source: str = "test.csv") -> Staged:
        df = pd.DataFrame(rows)
        df["_row"] = range(1, len(df) + 1)
        df["_source"] = source
        return Staged(table, ibis.memtable(df), source)

    return make
