"""The order process: who orders when, what they buy, how it fits, and what that does to them.

While alive, customer ``i`` orders at rate ``order_rate * s(t)`` (seasonal) and churns at
``hazard``, both constant between orders: every change happens at an order, so the state
in force at any time is the one set by the last order before it (``truth_segments``).
The loop runs over order number, vectorized over the customers still active.

An order's experience moves the state: a fit return multiplies the hazard by
``fit_return_hazard`` (and the order rate by ``fit_return_order_rate``), another return by
``other_return_hazard``, a fully kept order by ``kept_hazard``; joining the membership
multiplies them by ``member_hazard`` and ``member_order_rate``. A customer who finds a
bra (or alpha) size misfitting moves one step toward the true size with probability
``learn_on_misfit``; a size-guide visit gives the true size with ``size_guide_correct``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from features.config import SimulateParams
from features.simulate.catalog import Catalog
from features.simulate.clock import SeasonalClock
from features.simulate.fit import (
    N_ALPHA,
    N_BANDS,
    N_CUPS,
    alpha_gap,
    bra_gap,
    fit_probabilities_from_gap,
)
from features.simulate.population import Population

SMALL, FIT, LARGE = 0, 1, 2
# Return reasons in the order of schema.RETURN_REASONS; -1 = kept.
R_SMALL, R_LARGE, R_STYLE, R_QUALITY, R_OTHER = range(5)


@dataclass
class OrderHistory:
    """Everything the order loop produced, as flat arrays (one list entry per loop step)."""

    cols: dict[str, dict[str, list[np.ndarray]]] = field(
        default_factory=lambda: {"orders": {}, "lines": {}, "segments": {}, "subs": {}}
    )
    death: np.ndarray = field(default_factory=lambda: np.zeros(0))  # churn day, nan if alive

    def add(self, table: str, **arrays: np.ndarray) -> None:
        for k, v in arrays.items():
            self.cols[table].setdefault(k, []).append(np.asarray(v))

    def table(self, name: str) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.cols[name].items()}


def _toward_zero(err: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, err - np.sign(err), err).astype(err.dtype)


class _Loop:
    def __init__(self, params, pop, catalog, clock, end_day, rng):
        self.p, self.pop, self.cat, self.clock, self.end, self.rng = (
            params,
            pop,
            catalog,
            clock,
            end_day,
            rng,
        )
        n = len(pop)
        self.t = pop.signup.copy()
        self.mu = pop.hazard.copy()
        self.lam = pop.order_rate.copy()
        self.n_orders = np.zeros(n, dtype=np.int32)
        self.member = np.zeros(n, dtype=bool)
        self.plan = np.full(n, -1, dtype=np.int8)
        self.sub_row = np.full(n, -1, dtype=np.int64)  # open subscription row per customer
        self.eb, self.ec, self.ea = (
            pop.band_error.copy(),
            pop.cup_error.copy(),
            pop.alpha_error.copy(),
        )
        self.out = OrderHistory()
        self.n_order_rows = 0
        self.n_sub_rows = 0
        self.sub_end: list[tuple[np.ndarray, np.ndarray]] = []  # (row, day) closed by a change
        self.bra = catalog.categories.index("bra") if "bra" in catalog.categories else -1
        plans = params.membership.plans
        self.plan_share = np.array([pl.share for pl in plans.values()])
        self.month_discount = np.full(13, params.promo.default_discount)
        for month, (_, d) in params.promo.monthly.items():
            self.month_discount[month] = d
        ex = params.experience
        self.mu_lo, self.mu_hi = ex.min_hazard_per_year / 365, ex.max_hazard_per_year / 365

    def segment(self, ids: np.ndarray, day: np.ndarray, first: np.ndarray) -> None:
        self.out.add(
            "segments",
            customer=ids,
            day=day,
            number=self.n_orders[ids],
            hazard=self.mu[ids],
            order_rate=self.lam[ids],
            promo_rate=np.where(
                first & self.pop.promo_acquired[ids], 1.0, self.pop.promo_rate[ids]
            ),
            first_order=first,
            member=self.member[ids],
        )

    def orders(self, ids: np.ndarray, day: np.ndarray) -> None:
        """Place one order for each customer in ``ids`` at ``day`` and update their state."""
        p, pop, rng, n = self.p, self.pop, self.rng, len(ids)
        fit = p.fit
        first = self.n_orders[ids] == 0
        app = rng.random(n) < pop.app_share[ids]
        guide = rng.random(n) < np.where(first, fit.size_guide_first, fit.size_guide_repeat)
        told = ids[guide & (rng.random(n) < fit.size_guide_correct)]
        self.eb[told] = self.ec[told] = self.ea[told] = 0

        promo_p = np.where(first & pop.promo_acquired[ids], 1.0, pop.promo_rate[ids])
        promo = rng.random(n) < promo_p
        month = self.clock.segment_month(day)
        discount = np.where(
            promo, np.where(first, p.promo.welcome_discount, self.month_discount[month]), 0.0
        )

        lines = 1 + np.minimum(rng.poisson(pop.extra_lines[ids]), p.population.max_lines - 1)
        owner = np.repeat(np.arange(n), lines)
        cust = ids[owner]
        cum = np.cumsum(pop.category_mix[cust], axis=1)
        category = (rng.random(len(owner))[:, None] > cum[:, :-1]).sum(axis=1)
        product = self.cat.sample(category, rng)
        category = self.cat.category[product]
        qty = self.cat.quantity(product, rng)
        price = np.round(self.cat.price[product] * (1 - discount[owner]), 2)

        is_bra = category == self.bra
        band = np.clip(pop.true_band[cust] + self.eb[cust], 0, N_BANDS - 1)
        cup = np.clip(pop.true_cup[cust] + self.ec[cust], 0, N_CUPS - 1)
        alpha = np.clip(pop.true_alpha[cust] + self.ea[cust], 0, N_ALPHA - 1)
        gap = np.where(
            is_bra,
            bra_gap(
                pop.true_band[cust], pop.true_cup[cust], band, cup, band_weight=fit.band_weight
            ),
            alpha_gap(pop.true_alpha[cust], alpha),
        )
        p_small, _, p_large = fit_probabilities_from_gap(gap, self.cat.offset[product], fit=fit)
        u = rng.random(len(owner))
        outcome = np.where(u < p_small, SMALL, np.where(u > 1 - p_large, LARGE, FIT))
        misfit = outcome != FIT
        fit_return = misfit & (rng.random(len(owner)) < fit.return_if_misfit)
        v = rng.random(len(owner))
        other = np.where(
            v < fit.style_return,
            R_STYLE,
            np.where(
                v < fit.style_return + fit.quality_return,
                R_QUALITY,
                np.where(v < fit.style_return + fit.quality_return + fit.other_return, R_OTHER, -1),
            ),
        )
        reason = np.where(fit_return, np.where(outcome == SMALL, R_SMALL, R_LARGE), other)
        feedback = np.where(
            (reason < 0) & (rng.random(len(owner)) < fit.feedback_rate), outcome, -1
        )
        lag = 2.0 + rng.gamma(2.0, (fit.return_lag_days - 2.0) / 2.0, len(owner))

        joined = self._membership(ids, day, first)
        order_no = self.n_order_rows + np.arange(n)
        self.out.add(
            "orders",
            customer=ids,
            day=day,
            number=self.n_orders[ids],
            promo=promo,
            month=month,
            first=first,
            discount=discount,
            app=app,
            guide=guide,
            joined=joined,
            revenue=np.bincount(owner, weights=price * qty, minlength=n),
        )
        self.out.add(
            "lines",
            order=order_no[owner],
            product=product,
            band=np.where(is_bra, band, -1).astype(np.int8),
            cup=np.where(is_bra, cup, -1).astype(np.int8),
            alpha=np.where(is_bra, -1, alpha).astype(np.int8),
            quantity=qty,
            price=price,
            outcome=outcome.astype(np.int8),
            reason=reason.astype(np.int8),
            feedback=feedback.astype(np.int8),
            return_day=day[owner] + lag,
            gap=gap + self.cat.offset[product],
        )
        self.n_order_rows += n

        ex = p.experience
        any_fit = np.bincount(owner, weights=fit_return, minlength=n) > 0
        any_other = np.bincount(owner, weights=(reason >= R_STYLE), minlength=n) > 0
        mult = np.where(
            any_fit,
            ex.fit_return_hazard,
            np.where(any_other, ex.other_return_hazard, ex.kept_hazard),
        )
        self.mu[ids] *= mult
        self.lam[ids] *= np.where(any_fit, ex.fit_return_order_rate, 1.0)

        learn = misfit & (rng.random(len(owner)) < fit.learn_on_misfit)
        learn_bra = np.bincount(owner, weights=learn & is_bra, minlength=n) > 0
        learn_alpha = np.bincount(owner, weights=learn & ~is_bra, minlength=n) > 0
        eb, ec = self.eb[ids], self.ec[ids]
        move_band = learn_bra & (eb != 0) & (np.abs(eb) >= np.abs(ec))
        self.eb[ids] = _toward_zero(eb, move_band)
        self.ec[ids] = _toward_zero(ec, learn_bra & ~move_band)
        self.ea[ids] = _toward_zero(self.ea[ids], learn_alpha)

        self.mu[ids[joined]] *= ex.member_hazard
        self.lam[ids[joined]] *= ex.member_order_rate
        self.mu[ids] = np.clip(self.mu[ids], self.mu_lo, self.mu_hi)
        self.n_orders[ids] += 1
        self.t[ids] = day
        self.segment(ids, day, np.zeros(n, dtype=bool))

    def _membership(self, ids: np.ndarray, day: np.ndarray, first: np.ndarray) -> np.ndarray:
        """Joins and plan changes at these orders; returns who joined."""
        ms, rng, n = self.p.membership, self.rng, len(ids)
        was = self.member[ids]
        join = ~was & (rng.random(n) < np.where(first, ms.join_first_order, ms.join_repeat_order))
        change = was & (rng.random(n) < ms.plan_change) & (len(self.plan_share) > 1)
        if change.any():
            self.sub_end.append((self.sub_row[ids[change]], day[change]))
        new_plan = self.plan[ids].copy()
        cum = np.cumsum(self.plan_share / self.plan_share.sum())
        new_plan[join] = np.searchsorted(cum, rng.random(int(join.sum())), side="right").clip(
            0, len(cum) - 1
        )
        shift = rng.integers(1, max(len(cum), 2), int(change.sum()))
        new_plan[change] = (new_plan[change] + shift) % len(cum)
        starts = join | change
        k = int(starts.sum())
        if k:
            rows = self.n_sub_rows + np.arange(k)
            self.out.add("subs", customer=ids[starts], plan=new_plan[starts], start=day[starts])
            self.sub_row[ids[starts]] = rows
            self.n_sub_rows += k
        self.plan[ids] = new_plan
        self.member[ids[join]] = True
        return join

    def run(self) -> OrderHistory:
        pop, rng, clock = self.pop, self.rng, self.clock
        n = len(pop)
        everyone = np.arange(n)
        self.segment(everyone, pop.signup, np.ones(n, dtype=bool))
        at_signup = everyone[rng.random(n) < self.p.population.order_at_signup]
        self.orders(at_signup, pop.signup[at_signup])
        death = np.full(n, np.nan)
        active = everyone
        while len(active):
            t = self.t[active]
            d = t + rng.exponential(1.0, len(active)) / self.mu[active]
            tau = clock.inverse(
                clock.cumulative(t) + rng.exponential(1.0, len(active)) / self.lam[active]
            )
            dies = (d < tau) & (d < self.end)
            death[active[dies]] = d[dies]
            buys = ~dies & (tau < self.end)
            active = active[buys]
            self.orders(active, tau[buys])
        self.out.death = death
        return self.out


def simulate_orders(
    params: SimulateParams,
    pop: Population,
    catalog: Catalog,
    clock: SeasonalClock,
    end_day: float,
    rng: np.random.Generator,
) -> tuple[OrderHistory, np.ndarray]:
    """Run the order process. Returns the history and each subscription row's end day (nan
    while open): a plan change's day, or churn plus the cancel lag."""
    loop = _Loop(params, pop, catalog, clock, end_day, rng)
    out = loop.run()
    n_subs = loop.n_sub_rows
    sub_end = np.full(n_subs, np.nan)
    for rows, day in loop.sub_end:
        sub_end[rows] = day
    # Open memberships end when the member churns, after a lag to notice and cancel.
    open_rows = loop.sub_row[loop.sub_row >= 0]
    owners = np.flatnonzero(loop.sub_row >= 0)
    churned = ~np.isnan(out.death[owners])
    lag = rng.exponential(params.membership.cancel_lag_days, len(owners))
    end = out.death[owners] + lag
    sub_end[open_rows] = np.where(churned & (end < end_day), end, np.nan)
    return out, sub_end
