"""Oracles: what a perfect model would predict, from the hidden truth and the observable past.

At a ``cutoff`` each customer who signed up before it is in a known state: the truth
segment set by their last order before the cutoff (hazard ``mu``, order rate ``lam``,
browse rate ``beta``, all per day) and their last activity ``t_a`` (the start of their last
session before the cutoff; every order and sign-up opens a session). While alive, sessions
arrive at ``(lam + beta) * s(t)``, so with ``Delta = cutoff - t_a`` and ``C`` the seasonal
clock (see :mod:`features.simulate.clock`)::

    A = exp(-mu * Delta - (lam + beta) * (C(cutoff) - C(t_a)))          alive, quiet
    D = integral_0^Delta mu exp(-mu u - (lam + beta)(C(t_a + u) - C(t_a))) M(u) du
    P(alive at cutoff) = A / (A + D)

``M(u)`` is the membership evidence: a member who churns cancels after an exponential lag
of mean ``cancel_lag_days``, so a membership still open at the cutoff multiplies the
chance of having churned at ``t_a + u`` by ``exp(-(Delta - u) / cancel_lag_days)``; a
membership that ended before the cutoff means the customer has churned. Seasonality is
constant within a month, so every integral is a sum of closed forms.

Labels (half-open window ``[cutoff, cutoff + horizon_days)``):

- churn: ``P(no order) = 1 - P(alive) * integral lam s(t) exp(-mu u - lam (C(t) - C(cutoff)))``,
  exact: only the first order in the window matters and the state is constant until it;
- value: ``P(alive) * integral lam s(t) V(t) exp(-mu u)``, with ``V`` the expected order
  value (``items_value * (1 - promo_rate * discount of the month)``). It holds the state at
  the cutoff over the window; orders inside the window change it (a few percent over a
  half-year horizon, measured in the tests).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from features.config import SimulateParams
from features.simulate.clock import SeasonalClock, us_to_days
from features.simulate.simulator import clock_for

if TYPE_CHECKING:
    import ibis.expr.types as ir

NEEDED = ("customers", "events", "subscriptions", "truth_segments")
_CHUNK = 200_000


def oracle_state(tables: Mapping[str, ir.Table], cutoff: dt.datetime) -> pd.DataFrame:
    """One row per customer signed up before ``cutoff``: the truth segment in force and
    the observable evidence (last session start, membership open or cancelled).

    ``tables`` maps names to Ibis tables: the contract's ``customers``, ``events``,
    ``subscriptions`` and the hidden ``truth_segments``. Uses rows before the cutoff only.
    """
    missing = [t for t in NEEDED if t not in tables]
    if missing:
        raise KeyError(f"oracle needs tables {', '.join(NEEDED)}; missing {', '.join(missing)}")
    cut = ibis.literal(cutoff)
    cust = tables["customers"]
    cust = cust.filter(cust.signup_ts < cut).select("customer_id")
    ev = tables["events"]
    sessions = ev.filter(ev.ts < cut).group_by(["session_id", "customer_id"]).agg(start=ev.ts.min())
    last = sessions.group_by("customer_id").agg(last_activity=sessions.start.max())
    seg = tables["truth_segments"]
    seg = seg.filter(seg.start_ts < cut)
    latest = seg.group_by("customer_id").agg(segment=seg.segment.max())
    state = seg.join(latest, ["customer_id", "segment"]).select(
        "customer_id",
        "hazard_per_day",
        "order_rate_per_day",
        "browse_rate_per_day",
        "items_value",
        "promo_rate",
        "first_order",
        "member",
    )
    subs = tables["subscriptions"]
    subs = subs.filter(subs.start_ts < cut)
    is_open = subs.end_ts.isnull() | (subs.end_ts >= cut)
    member = subs.group_by("customer_id").agg(
        membership_open=is_open.any(), membership_rows=subs.count()
    )
    out = (
        cust.left_join(last, "customer_id")
        .drop("customer_id_right")
        .left_join(state, "customer_id")
        .drop("customer_id_right")
        .left_join(member, "customer_id")
        .drop("customer_id_right")
    )
    df = out.to_pandas().sort_values("customer_id", kind="stable").reset_index(drop=True)
    df["membership_open"] = df.membership_open.astype("boolean").fillna(False).astype(bool)
    df["membership_cancelled"] = (df.membership_rows.fillna(0) > 0) & ~df.membership_open
    return df.drop(columns="membership_rows")


def _log_integral(b: np.ndarray, length: np.ndarray) -> np.ndarray:
    """``log of integral_0^length exp(b x) dx`` (``-inf`` where length is 0)."""
    x = b * length
    small = np.abs(x) < 1e-8
    safe_b = np.where(small, 1.0, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.where(
            x > 0,
            np.log(np.expm1(np.where(x > 0, x, 1.0))) - np.log(np.where(x > 0, safe_b, 1.0)),
            np.log(-np.expm1(np.where(x < 0, x, -1.0))) - np.log(np.where(x < 0, -safe_b, 1.0)),
        )
        val = np.where(small, np.log(length) + x / 2, val)
    return np.where(length > 0, val, -np.inf)


def p_alive(
    clock: SeasonalClock,
    t_a: np.ndarray,
    cutoff: float,
    hazard: np.ndarray,
    activity_rate: np.ndarray,
    open_membership_lag: np.ndarray,
) -> np.ndarray:
    """P(alive at ``cutoff`` | alive at ``t_a``, no activity in ``(t_a, cutoff)``).

    ``open_membership_lag`` is the mean cancel lag (days) for members whose membership is
    still open at the cutoff, ``inf`` for everyone else. Times are days on ``clock``.
    """
    c = np.full(len(t_a), cutoff)
    lo, hi, s = clock.pieces(t_a, c)
    inv_lag = np.where(np.isfinite(open_membership_lag), 1.0 / open_membership_lag, 0.0)
    mu, r = hazard[:, None], activity_rate[:, None]
    c_ta = clock.cumulative(t_a)[:, None]
    a = -mu * (lo - t_a[:, None]) - r * (clock.cumulative(lo) - c_ta)
    a = a - inv_lag[:, None] * (cutoff - lo)
    b = -mu - r * s + inv_lag[:, None]
    with np.errstate(divide="ignore"):
        log_d = np.logaddexp.reduce(np.log(mu) + a + _log_integral(b, hi - lo), axis=1)
    log_a = -hazard * (cutoff - t_a) - activity_rate * (clock.cumulative(c) - c_ta[:, 0])
    return 1.0 / (1.0 + np.exp(np.clip(log_d - log_a, -700, 700)))


def _window(clock, cutoff, horizon_days, hazard, rate, weight):
    """``integral over [cutoff, cutoff+h) of rate s(t) w(t) exp(-mu u - k (C(t) - C(c)))``.

    Returns (with k = rate) the probability of an order before churning, and (with k = 0)
    the expected number of orders weighted by ``weight`` (per month segment)."""
    n = len(hazard)
    c = np.full(n, cutoff)
    lo, hi, s = clock.pieces(c, c + horizon_days)
    mu, lam = hazard[:, None], rate[:, None]
    c_c = clock.cumulative(c)[:, None]
    first = (
        lam
        * s
        * np.exp(
            -mu * (lo - cutoff)
            - lam * (clock.cumulative(lo) - c_c)
            + _log_integral(-mu - lam * s, hi - lo)
        )
    )
    orders = lam * s * weight * np.exp(-mu * (lo - cutoff) + _log_integral(-mu + 0 * s, hi - lo))
    return first.sum(axis=1), orders.sum(axis=1)


def oracle(
    tables: Mapping[str, ir.Table],
    cutoff: dt.datetime,
    *,
    horizon_days: float,
    params: SimulateParams,
) -> pd.DataFrame:
    """Per customer signed up before ``cutoff``: ``p_alive``, ``p_no_order`` and
    ``expected_revenue`` in ``[cutoff, cutoff + horizon_days)`` (see the module docstring)."""
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    state = oracle_state(tables, cutoff)
    clock = clock_for(params)
    origin = params.start
    cut = float(us_to_days(origin, np.array([pd.Timestamp(cutoff).value // 1000]))[0])
    t_a = us_to_days(origin, state.last_activity.to_numpy("datetime64[us]").astype(np.int64))
    hazard = state.hazard_per_day.to_numpy()
    lam = state.order_rate_per_day.to_numpy()
    activity = lam + state.browse_rate_per_day.to_numpy()
    lag = np.where(
        state.member.to_numpy() & state.membership_open.to_numpy(),
        params.membership.cancel_lag_days,
        np.inf,
    )
    promo = params.promo
    month_discount = np.full(13, promo.default_discount)
    for m, (_, d) in promo.monthly.items():
        month_discount[m] = d
    discount = np.where(
        state.first_order.to_numpy()[:, None],
        promo.welcome_discount,
        month_discount[clock.months][None, :],
    )
    value = state.items_value.to_numpy()[:, None] * (
        1 - state.promo_rate.to_numpy()[:, None] * discount
    )
    alive = np.empty(len(state))
    first = np.empty(len(state))
    revenue = np.empty(len(state))
    for i in range(0, len(state), _CHUNK):
        sl = slice(i, i + _CHUNK)
        alive[sl] = p_alive(clock, t_a[sl], cut, hazard[sl], activity[sl], lag[sl])
        first[sl], revenue[sl] = _window(clock, cut, horizon_days, hazard[sl], lam[sl], value[sl])
    alive = np.where(state.membership_cancelled.to_numpy(), 0.0, alive)
    return pd.DataFrame(
        {
            "customer_id": state.customer_id.to_numpy(),
            "p_alive": alive,
            "p_no_order": 1.0 - alive * first,
            "expected_revenue": alive * revenue,
        }
    )


def churn_oracle(tables, cutoff, *, horizon_days, params) -> pd.DataFrame:
    """``customer_id, p_no_order``: the true probability of no order in the window."""
    return oracle(tables, cutoff, horizon_days=horizon_days, params=params)[
        ["customer_id", "p_no_order"]
    ]


def value_oracle(tables, cutoff, *, horizon_days, params) -> pd.DataFrame:
    """``customer_id, expected_revenue``: true expected order revenue in the window."""
    return oracle(tables, cutoff, horizon_days=horizon_days, params=params)[
        ["customer_id", "expected_revenue"]
    ]
