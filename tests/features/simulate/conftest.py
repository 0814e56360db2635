"""Simulations shared by the simulator tests, built once per session."""

from __future__ import annotations

import ibis
import pytest

from features.config import SimulateParams
from features.simulate import simulate


@pytest.fixture(scope="session")
def sim_params() -> SimulateParams:
    return SimulateParams()


@pytest.fixture(scope="session")
def small_sim(sim_params):
    """2,000 customers: contract checks."""
    return simulate(sim_params, customers=2_000, seed=11)


@pytest.fixture(scope="session")
def moderate_sim(sim_params):
    """20,000 customers: magnitudes, truth recovery and oracle checks."""
    return simulate(sim_params, customers=20_000, seed=5)


@pytest.fixture(scope="session")
def moderate_frames(moderate_sim):
    """pandas copies with plain string columns."""

    def plain(t):
        df = t.to_pandas()
        for c in df.columns:
            if df[c].dtype == "category":
                df[c] = df[c].astype(object).where(df[c].notna(), None)
        return df

    return {k: plain(v) for k, v in {**moderate_sim.tables, **moderate_sim.truth}.items()}


@pytest.fixture(scope="session")
def moderate_ibis(moderate_sim):
    return {k: ibis.memtable(v) for k, v in {**moderate_sim.tables, **moderate_sim.truth}.items()}
