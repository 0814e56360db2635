"""Oracles: closed forms against numerical integration, and against the simulator itself."""

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from features.simulate.clock import SeasonalClock
from features.simulate.oracles import _log_integral, _window, oracle, p_alive

CUTOFF = dt.datetime(2025, 1, 1)
HORIZON = 180
SEASONS = [0.9, 0.85, 0.9, 0.95, 1.0, 0.95, 0.95, 0.9, 0.95, 1.0, 1.35, 1.5]


@pytest.fixture(scope="module")
def clock():
    return SeasonalClock.build(
        dt.date(2023, 1, 1), dt.date(2023, 1, 1), dt.date(2026, 12, 1), SEASONS
    )


@pytest.fixture(scope="module")
def at_cutoff(moderate_ibis, sim_params):
    return oracle(moderate_ibis, CUTOFF, horizon_days=HORIZON, params=sim_params)


def test_log_integral_matches_its_closed_form():
    b = np.array([0.1, -0.5, 0.0, 1e-12])
    length = np.array([2.0, 3.0, 4.0, 5.0])
    expected = np.log([(np.exp(0.2) - 1) / 0.1, (1 - np.exp(-1.5)) / 0.5, 4.0, 5.0])
    np.testing.assert_allclose(np.exp(_log_integral(b, length)), np.exp(expected), rtol=1e-9)
    assert _log_integral(np.array([0.3]), np.array([0.0]))[0] == -np.inf


@pytest.mark.parametrize("lag", [np.inf, 20.0])
def test_p_alive_matches_numerical_integration(clock, lag):
    t_a, cutoff, mu, r = 600.3, 731.0, 0.004, 0.03  # a quiet spell across the holiday peak

    def season(t):
        return r * clock.factor(np.array([t]))[0]

    def activity(u):
        return r * (clock.cumulative(np.array([t_a + u]))[0] - clock.cumulative(np.array([t_a]))[0])

    delta = cutoff - t_a
    alive = np.exp(-mu * delta - activity(delta))
    member = 0.0 if np.isinf(lag) else 1.0 / lag
    dead, _ = quad(
        lambda u: mu * np.exp(-mu * u - activity(u) - member * (delta - u)),
        0,
        delta,
        points=list(clock.edges[(clock.edges > t_a) & (clock.edges < cutoff)] - t_a),
        limit=200,
    )
    got = p_alive(clock, np.array([t_a]), cutoff, np.array([mu]), np.array([r]), np.array([lag]))
    assert season(650) > 0
    assert got[0] == pytest.approx(alive / (alive + dead), rel=1e-7)


def test_window_integrals_match_numerical_integration(clock):
    cutoff, h, mu, lam = 1020.0, 120.0, 0.003, 0.01
    c0 = clock.cumulative(np.array([cutoff]))[0]

    def s(t):
        return clock.factor(np.array([t]))[0]

    def cum(t):
        return clock.cumulative(np.array([t]))[0] - c0

    pts = list(clock.edges[(clock.edges > cutoff) & (clock.edges < cutoff + h)])
    first, _ = quad(
        lambda t: lam * s(t) * np.exp(-mu * (t - cutoff) - lam * cum(t)),
        cutoff,
        cutoff + h,
        points=pts,
        limit=200,
    )
    orders, _ = quad(
        lambda t: lam * s(t) * 50.0 * np.exp(-mu * (t - cutoff)),
        cutoff,
        cutoff + h,
        points=pts,
        limit=200,
    )
    got_first, got_orders = _window(
        clock, cutoff, h, np.array([mu]), np.array([lam]), np.full((1, len(clock.rate)), 50.0)
    )
    assert got_first[0] == pytest.approx(first, rel=1e-7)
    assert got_orders[0] == pytest.approx(orders, rel=1e-7)


def _realized(frames, cutoff, horizon):
    o = frames["orders"]
    w = o[(o.ts >= cutoff) & (o.ts < cutoff + dt.timedelta(days=horizon))]
    return w.groupby("customer_id").revenue.agg(["size", "sum"])


def test_churn_oracle_is_calibrated_against_the_simulation(at_cutoff, moderate_frames):
    df = at_cutoff.join(_realized(moderate_frames, CUTOFF, HORIZON), on="customer_id")
    no_order = df["size"].isna().to_numpy()
    assert abs(df.p_no_order.mean() - no_order.mean()) < 0.01
    bins = pd.qcut(df.p_no_order.rank(method="first"), 10, labels=False)
    gap = (df.p_no_order.groupby(bins).mean() - pd.Series(no_order).groupby(bins).mean()).abs()
    assert gap.max() < 0.04, gap


def test_value_oracle_totals_match_the_simulation(at_cutoff, moderate_frames):
    df = at_cutoff.join(_realized(moderate_frames, CUTOFF, HORIZON), on="customer_id")
    actual = df["sum"].fillna(0).sum()
    assert df.expected_revenue.sum() == pytest.approx(actual, rel=0.05)
    top = df.expected_revenue >= df.expected_revenue.quantile(0.9)
    # The top decile by expected value holds far more than a tenth of the realized revenue.
    assert df["sum"].fillna(0)[top].sum() > 0.4 * actual


def test_cancelled_members_are_known_churned(at_cutoff, moderate_frames):
    subs = moderate_frames["subscriptions"]
    before = subs[subs.start_ts < CUTOFF]
    open_ = before.end_ts.isna() | (before.end_ts >= CUTOFF)
    cancelled = set(before.customer_id) - set(before[open_].customer_id)
    got = at_cutoff.set_index("customer_id").p_alive
    assert len(cancelled) > 50
    assert (got.loc[sorted(cancelled)] == 0).all()
    churn = moderate_frames["truth_customers"].set_index("customer_id").churn_ts
    assert (churn.loc[sorted(cancelled)] < CUTOFF).all()


def test_oracle_uses_nothing_at_or_after_the_cutoff(moderate_sim, sim_params, at_cutoff):
    t = {k: ibis.memtable(v) for k, v in {**moderate_sim.tables, **moderate_sim.truth}.items()}
    cut = ibis.literal(CUTOFF)
    t["events"] = t["events"].filter(t["events"].ts < cut)
    seg = t["truth_segments"]
    t["truth_segments"] = seg.filter(seg.start_ts < cut)
    s = t["subscriptions"]
    t["subscriptions"] = s.filter(s.start_ts < cut).mutate(
        end_ts=ibis.ifelse(s.end_ts >= cut, ibis.null("timestamp"), s.end_ts)
    )
    pd.testing.assert_frame_equal(
        oracle(t, CUTOFF, horizon_days=HORIZON, params=sim_params), at_cutoff
    )


def test_oracle_errors_name_what_is_missing(moderate_ibis, sim_params):
    with pytest.raises(KeyError, match="missing truth_segments"):
        oracle(
            {k: v for k, v in moderate_ibis.items() if k != "truth_segments"},
            CUTOFF,
            horizon_days=90,
            params=sim_params,
        )
    with pytest.raises(ValueError, match="horizon_days must be positive"):
        oracle(moderate_ibis, CUTOFF, horizon_days=0, params=sim_params)
