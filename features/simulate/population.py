"""Customers and their hidden traits: sign-up, channel, true sizes and latent rates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln
from scipy.stats import poisson

from features.config import SimulateParams
from features.simulate.catalog import Catalog
from features.simulate.clock import SeasonalClock
from features.simulate.fit import N_ALPHA, N_BANDS, N_CUPS


@dataclass
class Population:
    """One entry per customer (index = customer number). Rates are per day."""

    signup: np.ndarray  # days since start
    channel: np.ndarray  # index into params.population.channels
    region: np.ndarray
    birth_year: np.ndarray
    promo_acquired: np.ndarray  # bool
    app_share: np.ndarray
    true_band: np.ndarray  # band step (band = 28 + 2 * step)
    true_cup: np.ndarray
    true_alpha: np.ndarray
    band_error: np.ndarray  # believed - true, in steps, before any learning
    cup_error: np.ndarray
    alpha_error: np.ndarray
    order_rate: np.ndarray
    browse_rate: np.ndarray
    hazard: np.ndarray
    extra_lines: np.ndarray
    category_mix: np.ndarray  # (n, categories)
    promo_rate: np.ndarray
    items_value: np.ndarray  # expected order value before discounts

    def __len__(self) -> int:
        return len(self.signup)


def _choice(weights: dict[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    p = np.asarray(list(weights.values()), dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


def _gamma(mean: float, shape: float, n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.gamma(shape, mean / shape, n)


def _steps(levels: list[float], n: int, rng: np.random.Generator) -> np.ndarray:
    """Signed integer errors centred on zero from probabilities over ``-k..k``."""
    k = len(levels) // 2
    return (_choice(dict(enumerate(levels)), n, rng) - k).astype(np.int8)  # type: ignore[arg-type]


def expected_lines(extra_lines: np.ndarray, max_lines: int) -> np.ndarray:
    """E[1 + min(Poisson(extra_lines), max_lines - 1)]."""
    ks = np.arange(max_lines - 1)
    return 1.0 + poisson.sf(ks[None, :], extra_lines[:, None]).sum(axis=1)


def build_population(
    params: SimulateParams,
    n: int,
    catalog: Catalog,
    clock: SeasonalClock,
    end_day: float,
    rng: np.random.Generator,
) -> Population:
    """Draw ``n`` customers, signing up over ``[0, end_day)`` with growth and seasonality."""
    pop = params.population
    days = np.arange(int(np.ceil(end_day)))
    weights = pop.signup_growth_per_year ** (days / 365.0) * clock.factor(days + 0.5)
    cum = np.cumsum(weights) / weights.sum()
    day = np.searchsorted(cum, rng.random(n), side="right")
    signup = np.sort(np.minimum(day + rng.random(n), end_day - 1e-6))

    channel = _choice(pop.channels, n, rng)
    promo_share = np.array([pop.promo_acquired.get(c, 0.0) for c in pop.channels])
    promo_acquired = rng.random(n) < promo_share[channel]
    region = _choice(pop.regions, n, rng)
    birth_year = np.clip(np.round(rng.normal(1990, 10, n)), 1955, 2007).astype(np.int64)
    app_share = rng.beta(2 * pop.app_share, 2 * (1 - pop.app_share), n)

    sz = params.sizes
    band_cont = (rng.normal(sz.band_mean, sz.band_sd, n) - 28) / 2
    true_band = np.clip(np.round(band_cont), 0, N_BANDS - 1).astype(np.int8)
    true_cup = np.clip(np.round(rng.normal(sz.cup_mean, sz.cup_sd, n)), 0, N_CUPS - 1).astype(
        np.int8
    )
    alpha_cont = (
        2.0
        + sz.alpha_band_slope * (band_cont - (sz.band_mean - 28) / 2)
        + sz.alpha_cup_slope * (true_cup - sz.cup_mean)
        + rng.normal(0, sz.alpha_sd, n)
    )
    true_alpha = np.clip(np.round(alpha_cont), 0, N_ALPHA - 1).astype(np.int8)

    order_rate = _gamma(pop.order_rate_per_year / 365, pop.order_rate_shape, n, rng)
    browse_rate = _gamma(pop.browse_rate_per_year / 365, pop.browse_rate_shape, n, rng)
    # E[(G/mean)^-e] for a gamma G of shape k is k^e Gamma(k-e)/Gamma(k): divide it out so
    # the population mean hazard stays hazard_per_year whatever the engagement effect.
    k, e = pop.browse_rate_shape, pop.engagement_effect
    norm = np.exp(e * np.log(k) + gammaln(k - e) - gammaln(k)) if k > e else 1.0
    engagement = browse_rate / (pop.browse_rate_per_year / 365)
    hazard = (
        _gamma(pop.hazard_per_year / 365, pop.hazard_shape, n, rng)
        * engagement ** (-e)
        / norm
        * np.where(promo_acquired, pop.promo_hazard_mult, 1.0)
    )
    hazard = np.clip(
        hazard,
        params.experience.min_hazard_per_year / 365,
        params.experience.max_hazard_per_year / 365,
    )
    extra_lines = _gamma(pop.extra_lines_mean, pop.extra_lines_shape, n, rng)
    base = np.array([pop.category_mix.get(c, 0.0) for c in catalog.categories])
    mix = rng.dirichlet(pop.category_concentration * base / base.sum() + 1e-9, size=n)
    m, c = pop.promo_rate, pop.promo_rate_concentration
    ma = pop.promo_acquired_promo_rate
    promo_rate = np.where(
        promo_acquired, rng.beta(ma * c, (1 - ma) * c, n), rng.beta(m * c, (1 - m) * c, n)
    )
    items_value = expected_lines(extra_lines, pop.max_lines) * (mix @ catalog.mean_line_value)
    return Population(
        signup=signup,
        channel=channel,
        region=region,
        birth_year=birth_year,
        promo_acquired=promo_acquired,
        app_share=app_share,
        true_band=true_band,
        true_cup=true_cup,
        true_alpha=true_alpha,
        band_error=_steps(sz.band_error, n, rng),
        cup_error=_steps(sz.cup_error, n, rng),
        alpha_error=_steps(sz.alpha_error, n, rng),
        order_rate=order_rate,
        browse_rate=browse_rate,
        hazard=hazard,
        extra_lines=extra_lines,
        category_mix=mix,
        promo_rate=promo_rate,
        items_value=items_value,
    )
