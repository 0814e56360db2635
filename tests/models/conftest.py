"""Simulated data with known parameters, built once per session (fixed seeds).

Churn: snapshot panels and a Weibull survival sample. Size and fit: each customer has a
true bra size (band and cup) and a true alpha size; each product a size offset per
dimension; customers mostly buy their own size, sometimes a neighbour (a sister size, a
cup or a band either way); outcomes are drawn from the ordinal fit link.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from features.contract.schema import ALPHA_SIZES, BRA_BANDS, BRA_CUPS, FIT_FEEDBACK
from models.ordinal_link import combine_proba, link_proba
from models.survival import survival_target

CHANNEL_EFFECT = {"store": 0.0, "web": 0.6, "app": -0.4}


@dataclass(frozen=True)
class Panel:
    """Snapshot rows: features X, churn labels y, cutoff index per row, true P(churn)."""

    X: pd.DataFrame
    y: np.ndarray
    cutoff: np.ndarray
    p_true: np.ndarray


def simulate_churn_panel(
    *, rows_per_cutoff: int, n_cutoffs: int, shift_from: int, shift: float, seed: int
) -> Panel:
    """Logistic churn truth over numerics (one 15% missing, missing = risky), a
    categorical and one non-linear term; the intercept rises by ``shift`` from cutoff
    ``shift_from`` on (a market change the booster's training period never saw)."""
    rng = np.random.default_rng(seed)
    n = rows_per_cutoff * n_cutoffs
    cutoff = np.repeat(np.arange(n_cutoffs), rows_per_cutoff)
    recency = rng.gamma(2.0, 20.0, n)
    visits = rng.poisson(3.0, n).astype(float)
    spend = rng.normal(0.0, 1.0, n)
    channel = rng.choice(list(CHANNEL_EFFECT), size=n, p=[0.5, 0.3, 0.2])
    missing = rng.random(n) < 0.15
    logit = (
        -2.0
        + 0.03 * (recency - 40.0)
        - 0.35 * (visits - 3.0)
        + 0.5 * (spend**2 - 1.0)
        + np.vectorize(CHANNEL_EFFECT.get)(channel)
        + np.where(cutoff >= shift_from, shift, 0.0)
    )
    spend_obs = np.where(missing, np.nan, spend)
    logit = np.where(missing, logit - 0.5 * (spend**2 - 1.0) + 0.8, logit)
    p = 1.0 / (1.0 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    X = pd.DataFrame(
        {
            "recency_days": recency,
            "visits_90d": visits,
            "spend_90d": spend_obs,
            "channel": channel,  # object strings on purpose
        }
    )
    return Panel(X, y, cutoff, p)


@pytest.fixture(scope="session")
def churn_panel() -> Panel:
    """6 monthly cutoffs x 1,500 rows; the churn base rate jumps at cutoff 4."""
    return simulate_churn_panel(
        rows_per_cutoff=1500, n_cutoffs=6, shift_from=4, shift=0.9, seed=20260101
    )


@dataclass(frozen=True)
class SurvivalSample:
    """Weibull AFT truth: log T = MU + X . AFT_COEF + log(W) / RHO, W ~ Exp(1)."""

    X: pd.DataFrame
    y: np.ndarray
    log_scale: np.ndarray  # true log lambda(x); smaller = churns sooner
    mu: float
    rho: float
    aft_coef: dict[str, float]  # keyed by design column


MU = np.log(120.0)
RHO = 1.5
AFT_COEF = {"recency_days_z": -0.5, "visits_z": 0.3, "channel=web": -0.4, "channel=app": 0.3}


def simulate_weibull(n: int, seed: int) -> SurvivalSample:
    """Also a proportional-hazards truth: log hazard ratio = -RHO * AFT coefficient.

    Administrative censoring at a uniform 60-400 days of follow-up (about 20% censored).
    """
    rng = np.random.default_rng(seed)
    recency = rng.normal(size=n)
    visits = rng.normal(size=n)
    channel = rng.choice(["store", "web", "app"], size=n, p=[0.5, 0.3, 0.2])
    log_scale = (
        MU
        + AFT_COEF["recency_days_z"] * recency
        + AFT_COEF["visits_z"] * visits
        + AFT_COEF["channel=web"] * (channel == "web")
        + AFT_COEF["channel=app"] * (channel == "app")
    )
    T = np.exp(log_scale) * rng.exponential(size=n) ** (1.0 / RHO)
    C = rng.uniform(60.0, 400.0, n)
    X = pd.DataFrame(
        {
            "recency_days_z": recency,
            "visits_z": visits,
            "channel": pd.Categorical(channel),
        }
    )
    return SurvivalSample(
        X, survival_target(np.minimum(T, C), T <= C), log_scale, MU, RHO, AFT_COEF
    )


@pytest.fixture(scope="session")
def weibull_sample() -> SurvivalSample:
    return simulate_weibull(2000, seed=11)


# --- size and fit ---------------------------------------------------------------------

SLOPE, HALF_WIDTH, BAND_WEIGHT, REPORT_RATE = 4.0, 0.8, 0.8, 0.8
START = dt.datetime(2024, 1, 1)


def _toward_zero(error: np.ndarray, move: np.ndarray) -> np.ndarray:
    return np.where(move, error - np.sign(error), error)


def simulate_fit_data(
    n_customers: int = 1500,
    n_products: int = 40,
    mean_purchases: float = 4.0,
    link: str = "sum",
    seed: int = 0,
):
    """Purchases (customer, product, category, size, fit, ts) and the truth behind them.

    Each customer has a true bra size (band and cup), a true alpha size and a belief that
    may be a step off in band, cup or alpha size; she buys her belief. Each product runs
    small or large by a half-step offset. A bra's outcome is ordinal in ``BAND_WEIGHT``
    band gaps plus the cup-volume gap (``link="sum"``) or needs band and cup to fit
    (``"both"``). A misfit is recorded with probability ``REPORT_RATE`` (else it looks
    kept); after a misfit she moves her belief a step toward her true size half the time.
    """
    rng = np.random.default_rng(seed)
    band = np.clip(np.rint(rng.normal(3.5, 1.5, n_customers)), 0, 9).astype(int)
    cup = np.clip(np.rint(rng.normal(3.0, 1.5, n_customers)), 0, 8).astype(int)
    alpha = np.clip(np.rint(rng.normal(3.5, 1.2, n_customers)), 0, 7).astype(int)
    errors = [rng.choice([-1, 0, 1], n_customers, p=[0.15, 0.7, 0.15]) for _ in range(3)]
    eb, ec, ea = errors
    offset = np.rint(rng.normal(0.0, 0.3, n_products) * 2) / 2  # half steps, + runs large
    is_bra = np.arange(n_products) % 2 == 0
    n = rng.poisson(mean_purchases - 1, n_customers) + 1
    rows = []
    for k in range(n.max()):
        u = np.flatnonzero(n > k)
        p = rng.integers(0, n_products, len(u))
        b = np.clip(band[u] + eb[u], 0, 9)
        c = np.clip(cup[u] + ec[u], 0, 8)
        a = np.clip(alpha[u] + ea[u], 0, 7)
        db, dv = b - band[u], (b + c) - (band[u] + cup[u])
        if link == "sum":
            proba_bra = link_proba(BAND_WEIGHT * db + dv + offset[p], SLOPE, HALF_WIDTH)
        else:
            proba_bra = combine_proba(
                link_proba(db + offset[p], SLOPE, HALF_WIDTH),
                link_proba(dv + offset[p], SLOPE, HALF_WIDTH),
            )
        proba_alpha = link_proba(a - alpha[u] + offset[p], SLOPE, HALF_WIDTH)
        proba = np.where(is_bra[p, None], proba_bra, proba_alpha)
        y = np.minimum((rng.random(len(u))[:, None] > np.cumsum(proba, axis=1)).sum(axis=1), 2)
        misfit = y != 1
        recorded = np.where(misfit & (rng.random(len(u)) < REPORT_RATE), y, 1)
        learn = misfit & (rng.random(len(u)) < 0.5)
        bra_learn = learn & is_bra[p]
        band_first = np.abs(eb[u]) >= np.abs(ec[u])
        eb[u] = _toward_zero(eb[u], bra_learn & band_first)
        ec[u] = _toward_zero(ec[u], bra_learn & ~band_first)
        ea[u] = _toward_zero(ea[u], learn & ~is_bra[p])
        rows.append((u, p, b, c, a, recorded, np.full(len(u), k)))
    u, p, b, c, a, y, k = (np.concatenate(x) for x in zip(*rows, strict=True))
    bra_labels = np.array([f"{bb}{cc}" for bb in BRA_BANDS for cc in BRA_CUPS])
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in u],
            "product_id": [f"p{i}" for i in p],
            "category": np.where(is_bra[p], "bra", "knickers"),
            "size": np.where(
                is_bra[p], bra_labels[b * len(BRA_CUPS) + c], np.array(ALPHA_SIZES)[a]
            ),
            "fit": np.array(FIT_FEEDBACK)[y],
            "ts": START + pd.to_timedelta(k * 40 + rng.uniform(0, 40, len(u)), unit="D"),
        }
    )
    frame = frame.sort_values(["customer_id", "ts"], kind="stable").reset_index(drop=True)
    truth = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n_customers)],
            "bra": [f"{BRA_BANDS[bb]}{BRA_CUPS[cc]}" for bb, cc in zip(band, cup, strict=True)],
            "alpha": np.array(ALPHA_SIZES)[alpha],
        }
    )
    products = pd.DataFrame(
        {
            "product_id": [f"p{i}" for i in range(n_products)],
            "category": np.where(is_bra, "bra", "knickers"),
            "offset": offset,
        }
    )
    return frame, truth, products


def true_to_size_bras(products: pd.DataFrame) -> list[str]:
    bras = products[(products["category"] == "bra") & (products["offset"] == 0)]
    return bras["product_id"].tolist()


def evidence_rows(products: pd.DataFrame, counts=(1, 2, 4), size: str = "34C") -> pd.DataFrame:
    """Customers ``e1``, ``e2``, ``e4`` who kept ``size`` 1, 2 and 4 times in true-to-size bras.

    One order a day: each purchase is a pick of her own (``models.size_learning``).
    """
    true_to_size = true_to_size_bras(products)
    rows = [
        {"customer_id": f"e{k}", "product_id": true_to_size[j % len(true_to_size)],
         "category": "bra", "size": size, "fit": "fit", "ts": START + dt.timedelta(days=j)}
        for k in counts
        for j in range(k)
    ]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def fit_simulator():
    """:func:`simulate_fit_data`, for tests that need other settings."""
    return simulate_fit_data


@pytest.fixture(scope="session")
def fit_data():
    return simulate_fit_data()


@pytest.fixture(scope="session")
def true_to_size(fit_data) -> str:
    """A bra product without size offset."""
    return true_to_size_bras(fit_data[2])[0]


@pytest.fixture(scope="session")
def training_frame(fit_data):
    frame, _, products = fit_data
    return pd.concat([frame, evidence_rows(products)], ignore_index=True)


@pytest.fixture(scope="session")
def fitted(training_frame):
    from models.size_recommender import SizeRecommender

    return SizeRecommender(random_state=0).fit(training_frame, training_frame["fit"])


# ----------------------------------------------------------------- CLV (BG/NBD + Gamma-Gamma)

BGNBD_TRUTH = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}  # time unit: weeks
GG_TRUTH = {"p": 6.0, "q": 4.0, "gamma": 15.0}


@dataclass(frozen=True)
class PurchaseSample:
    """Purchase summaries at a cutoff (days) and what each customer did over the horizon."""

    X: pd.DataFrame
    future_orders: np.ndarray
    future_spend: np.ndarray
    horizon_days: float


def simulate_bgnbd(n: int, seed: int, *, horizon_weeks: float = 26.0) -> PurchaseSample:
    """BG/NBD purchases and Gamma-Gamma spend from BGNBD_TRUTH and GG_TRUTH.

    First purchases spread over the first 12 weeks; the cutoff is week 39 (as in the CDNOW
    calibration period); the horizon follows it. Spend per purchase day ~ Gamma(p, nu).
    """
    rng = np.random.default_rng(seed)
    t = BGNBD_TRUTH
    lam = rng.gamma(t["r"], 1.0 / t["alpha"], n)
    drop = rng.beta(t["a"], t["b"], n)
    nu = rng.gamma(GG_TRUTH["q"], 1.0 / GG_TRUTH["gamma"], n)
    first = rng.uniform(0.0, 12.0, n)
    cutoff, end = 39.0, 39.0 + horizon_weeks
    rows, future_orders, future_spend = [], np.zeros(n, int), np.zeros(n)
    for i in range(n):
        times, now = [], first[i]
        while True:
            now += rng.exponential(1.0 / lam[i]) if lam[i] > 0 else np.inf
            if now >= end:
                break
            times.append(now)
            if rng.random() < drop[i]:
                break
        times = np.array(times)
        past, coming = times[times < cutoff], times[times >= cutoff]
        x = len(past)
        spend = rng.gamma(GG_TRUTH["p"], 1.0 / nu[i], x) if x else np.array([])
        rows.append(
            {
                "repeat_purchase_days": float(x),
                "purchase_span_days": 7.0 * (past.max() - first[i]) if x else 0.0,
                "days_since_first_purchase": 7.0 * (cutoff - first[i]),
                "repeat_spend_mean": spend.mean() if x else np.nan,
            }
        )
        future_orders[i] = len(coming)
        future_spend[i] = rng.gamma(GG_TRUTH["p"], 1.0 / nu[i], len(coming)).sum()
    X = pd.DataFrame(rows, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))
    return PurchaseSample(X, future_orders, future_spend, 7.0 * horizon_weeks)


@pytest.fixture(scope="session")
def purchase_sample() -> PurchaseSample:
    return simulate_bgnbd(6000, seed=17)


@dataclass(frozen=True)
class PurchasePanel:
    """Purchase summaries stacked over cutoffs, revenue over each cutoff's horizon."""

    X: pd.DataFrame
    y: np.ndarray
    cutoff: np.ndarray  # weeks


def simulate_bgnbd_panel(
    n: int, seed: int, *, cutoffs_weeks, horizon_weeks: float
) -> PurchasePanel:
    """BG/NBD purchase histories with Gamma-Gamma spend, summarised at each cutoff.

    First purchases spread over weeks 0-12 (like the CDNOW cohort), so later cutoffs see
    older customers. Columns as ``features.purchase_days.build_purchase_days`` (days) plus
    ``recency_days`` and ``spend_lifetime``.
    """
    rng = np.random.default_rng(seed)
    t = BGNBD_TRUTH
    lam = rng.gamma(t["r"], 1.0 / t["alpha"], n)
    drop = rng.beta(t["a"], t["b"], n)
    nu = rng.gamma(GG_TRUTH["q"], 1.0 / GG_TRUTH["gamma"], n)
    first = rng.uniform(0.0, 12.0, n)
    end = max(cutoffs_weeks) + horizon_weeks
    histories = []
    for i in range(n):
        times, now = [first[i]], first[i]
        while True:  # dropout only after a repeat purchase, as in BG/NBD
            now += rng.exponential(1.0 / lam[i])
            if now >= end:
                break
            times.append(now)
            if rng.random() < drop[i]:
                break
        times = np.array(times)
        histories.append((times, rng.gamma(GG_TRUTH["p"], 1.0 / nu[i], len(times))))
    frames, ys, cuts = [], [], []
    for c in cutoffs_weeks:
        rows, y = [], []
        for times, spend in histories:
            past = times < c
            if not past.any():
                continue
            pt, ps = times[past], spend[past]
            x = len(pt) - 1
            rows.append(
                {
                    "repeat_purchase_days": float(x),
                    "purchase_span_days": 7.0 * (pt.max() - pt.min()),
                    "days_since_first_purchase": 7.0 * (c - pt.min()),
                    "repeat_spend_mean": ps[1:].mean() if x else np.nan,
                    "recency_days": 7.0 * (c - pt.max()),
                    "spend_lifetime": ps.sum(),
                }
            )
            window = (times >= c) & (times < c + horizon_weeks)
            y.append(spend[window].sum())
        frames.append(pd.DataFrame(rows))
        ys.append(np.array(y))
        cuts.append(np.full(len(rows), c))
    X = pd.concat(frames, ignore_index=True)
    return PurchasePanel(X, np.concatenate(ys), np.concatenate(cuts))


@pytest.fixture(scope="session")
def purchase_panel() -> PurchasePanel:
    """Training cutoffs at weeks 13-26 (26-week labels close by week 52), scored at 52."""
    return simulate_bgnbd_panel(3000, seed=23, cutoffs_weeks=[13, 17, 21, 26, 52], horizon_weeks=26)
