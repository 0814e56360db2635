"""Ceilings of the size benchmark: what knowing the simulator would buy.

    python -m benchmarks.size_ceiling [--customers N] [--seed S]

``benchmarks/size`` measures the fit-return reduction of the advice against the ceiling of
buying her true size, and true-size recovery against her latest size. Neither is the real
limit. This benchmark computes, on the same split:

- ``oracle``: per test line, the size with the highest P(fit) given her true size *and*
  the product's true offset (the best any advice could do);
- ``bayes``: the best advice from what is observable at add-to-cart (her pick, whether
  the order's session visited the size guide, every earlier order's sizes and guide visits,
  the outcomes known by then) under the simulator's own generative model with its true
  parameters and true product offsets: the Bayes posterior over her true size (the
  population's true sizes as prior; her first belief ``true + error``; a size-guide visit
  gives the true size with ``size_guide_correct``; a misfit moves her one step with
  ``learn_on_misfit``), then the size of highest expected P(fit). No learned model can do
  better on average, so it bounds the ``fit_return_reduction`` target;
- the same posterior's mode on every outcome known at the end, for customers with >= 3 bra
  orders: the ceiling of ``true_size_recovery``.

Writes ``benchmarks/results/size_ceiling.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
import pandas as pd

from benchmarks.common import write_results
from benchmarks.size import guided_orders, window
from features.config import load_params
from features.simulate import simulate
from features.simulate.fit import N_ALPHA, N_BANDS, N_CUPS, parse_size

FLOOR = 1e-9  # likelihood of a pick the belief dynamics cannot produce (grid clipping)


def _error_prior(levels: list[float]) -> dict[int, float]:
    k = len(levels) // 2
    return {i - k: p for i, p in enumerate(levels)}


class Belief:
    """The simulator's belief dynamics for one size system, on every candidate true size."""

    def __init__(self, kind: str, sizes, fit, true_sizes: np.ndarray):
        self.kind, self.fit = kind, fit
        if kind == "bra":
            b, c = np.meshgrid(np.arange(N_BANDS), np.arange(N_CUPS), indexing="ij")
            self.grid = np.column_stack([b.ravel(), c.ravel()])
            eb, ec = _error_prior(sizes.band_error), _error_prior(sizes.cup_error)
            self.p0 = lambda e: (
                np.vectorize(eb.get)(e[:, 0], 0.0) * np.vectorize(ec.get)(e[:, 1], 0.0)
            )
        else:
            self.grid = np.arange(N_ALPHA)[:, None]
            ea = _error_prior(sizes.alpha_error)
            self.p0 = lambda e: np.vectorize(ea.get)(e[:, 0], 0.0)
        index = {tuple(g): i for i, g in enumerate(self.grid)}
        counts = np.bincount([index[tuple(t)] for t in true_sizes], minlength=len(self.grid))
        self.log_prior = np.log(np.maximum(counts / counts.sum(), 1e-12))

    def gap(self, size: np.ndarray) -> np.ndarray:
        """Signed gap of buying ``size`` (indices) for every candidate true size."""
        d = size[None, :] - self.grid
        if self.kind == "bra":
            return self.fit.band_weight * d[:, 0] + d[:, 0] + d[:, 1]
        return d[:, 0].astype(float)

    def fit_proba(self, size, offset):
        from features.simulate.fit import fit_probabilities_from_gap

        return fit_probabilities_from_gap(self.gap(size), offset, fit=self.fit)

    def moved(self, e: np.ndarray) -> np.ndarray:
        """Her error after learning from a misfit (``orders._Loop`` rule)."""
        out = e.copy()
        if self.kind == "bra":
            band = (e[:, 0] != 0) & (np.abs(e[:, 0]) >= np.abs(e[:, 1]))
            out[band, 0] -= np.sign(e[band, 0])
            out[~band, 1] -= np.sign(e[~band, 1])
        else:
            out[:, 0] -= np.sign(e[:, 0])
        return out


def line_record(fit, kind: str, ps, pl, record: str):
    """``(P(record | g), P(misfit | record, g))`` for one line over candidate sizes."""
    pf, pm, r = 1.0 - ps - pl, ps + pl, fit.return_if_misfit
    if record == "ret_small":
        return ps * r, np.ones_like(ps)
    if record == "ret_large":
        return pl * r, np.ones_like(ps)
    if record in ("kept", "other"):  # not a fit return: fit, or a misfit kept
        kept = pf + pm * (1 - r)
        return kept, pm * (1 - r) / np.maximum(kept, 1e-300)
    if record.startswith("fb_"):
        p = {"fb_too_small": ps * (1 - r), "fb_fit": pf, "fb_too_large": pl * (1 - r)}[record]
        return p, np.full_like(ps, float(record != "fb_fit"))
    return np.ones_like(ps), pm  # pending: outcome unknown


def log_posterior(belief: Belief, orders: list[dict], fit, guide_correct: float):
    """Log posterior over true sizes from her orders (oldest first) in every system.

    Each order: ``guide`` (bool), ``lines`` of ``(size index array, offset, record)`` in
    this system (possibly none).
    """
    n = len(belief.grid)
    log_p = belief.log_prior.copy()
    e_prev = None  # her error at the last order with a line in this system
    learn = np.zeros(n)
    keep = 1.0  # P(no size-guide reset since that order)
    for order in orders:
        if order["guide"]:
            keep *= 1.0 - guide_correct
        if not order["lines"]:
            continue
        e = order["lines"][0][0][None, :] - belief.grid  # her error if her size were g
        if e_prev is None:
            trans = belief.p0(e) * keep
        else:
            stay = (e == e_prev).all(axis=1)
            move = (e == belief.moved(e_prev)).all(axis=1)
            trans = keep * ((1 - learn) * stay + learn * move * ~stay)
        trans = trans + (1 - keep) * (e == 0).all(axis=1)
        log_p += np.log(np.maximum(trans, FLOOR))
        no_learn = np.ones(n)
        for size, offset, record, _ in order["lines"]:
            ps, _, pl = belief.fit_proba(size, offset)
            p_rec, p_mis = line_record(fit, belief.kind, ps, pl, record)
            log_p += np.log(np.maximum(p_rec, 1e-300))
            no_learn *= 1 - fit.learn_on_misfit * p_mis
        e_prev, learn, keep = e, 1 - no_learn, 1.0
    return log_p - np.logaddexp.reduce(log_p)


def records(tables, as_of: dt.datetime, return_window_days: float) -> pd.Series:
    """Per ``line_id``: what is known of its fit at ``as_of`` (see ``line_record``)."""
    lines = tables["order_lines"].merge(tables["orders"][["order_id", "ts"]], on="order_id")
    ret = tables["returns"]
    ret = ret[ret["ts"] < as_of].sort_values(["line_id", "ts"]).drop_duplicates("line_id")
    reason = lines["line_id"].map(ret.set_index("line_id")["reason"])
    fb = lines["fit_feedback"].astype(object)
    rec = np.where(
        reason.isin(["too_small", "too_large"]),
        "ret_" + reason.astype(str).str.removeprefix("too_"),
        np.where(reason.notna(), "other", np.where(fb.notna(), "fb_" + fb.astype(str), "kept")),
    )
    pending = reason.isna() & (lines["ts"] >= as_of - dt.timedelta(days=return_window_days))
    return pd.Series(np.where(pending, "pending", rec), index=lines["line_id"])


def customer_orders(tables, guide, rec, offsets, as_of, system: str) -> dict[str, list]:
    """Per customer: her orders before ``as_of`` (oldest first) with guide and system lines."""
    lines = tables["order_lines"].merge(tables["orders"][["order_id", "customer_id", "ts"]], on="order_id")  # fmt: skip
    lines = lines[lines["ts"] < as_of].sort_values(["ts", "order_id", "line_id"])
    mine = (lines["category"] == "bra") == (system == "bra")
    lines = lines[mine & lines["size"].notna()]
    band, cup, alpha = parse_size(lines["size"].to_numpy())
    idx = np.column_stack([band, cup]) if system == "bra" else alpha[:, None]
    by_order: dict[str, list] = {}
    for o, i, p, line in zip(
        lines["order_id"], idx, lines["product_id"], lines["line_id"], strict=True
    ):
        by_order.setdefault(o, []).append((i, offsets[p], rec[line], line))
    orders = tables["orders"]
    orders = orders[orders["ts"] < as_of].sort_values(["ts", "order_id"])
    out: dict[str, list] = {}
    for o, c in zip(orders["order_id"], orders["customer_id"], strict=True):
        out.setdefault(c, []).append(
            {"order_id": o, "guide": bool(guide[o]), "lines": by_order.get(o, [])}
        )
    return out


def pair_gaps(belief: Belief) -> np.ndarray:
    """``(G, S)``: gap of buying each grid size ``s`` for each true size ``g``."""
    return np.column_stack([belief.gap(s) for s in belief.grid])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--lines-csv", default=None, help="also write the per-line table here")
    args = parser.parse_args()
    p = load_params("params.yaml")
    fit, rw = p.simulate.fit, p.size.return_window_days
    data = simulate(p.simulate, customers=args.customers, seed=args.seed)
    tables = {k: data.tables[k].to_pandas() for k in ("orders", "order_lines", "returns", "events")}
    truth = data.truth["truth_customers"].to_pandas().set_index("customer_id")
    offsets = (
        data.truth["truth_products"].to_pandas().set_index("product_id")["size_offset"].to_dict()
    )
    start, end, until = window(p, data.tables, "test")
    guide = guided_orders(tables, p.size.guide_page or "size_guide")
    rec_start, rec_end = records(tables, start, rw), records(tables, until, rw)
    tb, tc, ta = parse_size(truth["true_size"].to_numpy())[0], parse_size(truth["true_size"].to_numpy())[1], parse_size(truth["true_alpha"].to_numpy())[2]  # fmt: skip
    true_idx = {"bra": np.column_stack([tb, tc]), "alpha": ta[:, None]}
    pos = pd.Series(np.arange(len(truth)), index=truth.index)
    from features.fit_outcomes import split_fit_outcomes

    split = split_fit_outcomes({k: tables[k] for k in ("orders", "order_lines", "returns")}, start, end, observed_until=until, return_window_days=rw)  # fmt: skip
    train = split.train.frame
    rows = []
    for system in ("bra", "alpha"):
        belief = Belief(system, p.simulate.sizes, fit, true_idx[system])
        gaps = pair_gaps(belief)
        steps = belief.grid  # band and cup letter (bras) or alpha index: one move a step
        seen = set(train.loc[(train["category"] == "bra") == (system == "bra"), "customer_id"])
        by_c = customer_orders(tables, guide, rec_start, offsets, end, system)
        blind = customer_orders(tables, guide, rec_start, dict.fromkeys(offsets, 0.0), end, system)
        for c, orders in by_c.items():
            g_true = int(np.flatnonzero((belief.grid == true_idx[system][pos[c]]).all(axis=1))[0])
            ts = tables["orders"].set_index("order_id").loc[[o["order_id"] for o in orders], "ts"]
            for k, (order, t) in enumerate(zip(orders, ts, strict=True)):
                if t < start or not order["lines"]:
                    continue
                post = np.exp(log_posterior(belief, orders[: k + 1], fit, fit.size_guide_correct))
                post_blind = np.exp(
                    log_posterior(belief, blind[c][: k + 1], fit, fit.size_guide_correct)
                )
                for size, off, _, line_id in order["lines"]:
                    x = gaps + off
                    pf = 1 - (
                        1 / (1 + np.exp((x + fit.threshold) / fit.noise_scale))
                        + 1 / (1 + np.exp(-(x - fit.threshold) / fit.noise_scale))
                    )
                    s_bought = int(np.flatnonzero((belief.grid == size).all(axis=1))[0])
                    bayes = int(np.argmax(post @ pf))
                    x0 = gaps
                    pf0 = 1 - (
                        1 / (1 + np.exp((x0 + fit.threshold) / fit.noise_scale))
                        + 1 / (1 + np.exp(-(x0 - fit.threshold) / fit.noise_scale))
                    )
                    blind_size = int(np.argmax(post_blind @ pf0))
                    # realistic advice: within a band and a cup letter of her pick, as
                    # the model's (the simulator's fit trades bands for cups linearly)
                    near = (np.abs(steps - steps[s_bought]) <= 1).all(axis=1)
                    near_size = int(np.argmax(np.where(near, post @ pf, -1.0)))
                    rows.append({
                        "system": system, "customer_id": c, "line_id": line_id, "returning": c in seen,
                        "guide": order["guide"], "first_order": k == 0,
                        **{f"p_fit_{name}": pf[g_true, s] for name, s in (
                            ("bought", s_bought), ("true", g_true), ("oracle", int(np.argmax(pf[g_true]))),
                            ("bayes", bayes), ("bayes_no_offsets", blind_size), ("bayes_near", near_size))},
                        "bayes_size": "-".join(map(str, belief.grid[bayes])),
                    })  # fmt: skip
    lines = pd.DataFrame(rows)
    lines["scored"] = lines["line_id"].isin(set(split.test["line_id"]))
    if args.lines_csv:
        lines.to_csv(args.lines_csv, index=False)
    ret = fit.return_if_misfit * (1 - lines.filter(like="p_fit_"))
    ret.columns = [c.removeprefix("p_fit_") for c in ret.columns]
    out: dict[str, object] = {"test_lines": len(lines)}
    for name, mask in (("all", lines["scored"]), ("returning", lines["scored"] & lines["returning"]), ("new", lines["scored"] & ~lines["returning"]), ("guided", lines["scored"] & lines["guide"]), ("every_test_order_line", slice(None))):  # fmt: skip
        r = ret[mask].mean()
        out[name] = {"lines": int(len(ret[mask])), "fit_return_rate_bought": round(r["bought"], 4),
                     **{f"reduction_{k}": round(1 - r[k] / r["bought"], 4) for k in ("true", "oracle", "bayes", "bayes_near", "bayes_no_offsets")}}  # fmt: skip

    # Recovery ceiling: the posterior mode on everything known at the end.
    from features.fit_outcomes import make_fit_outcomes

    frame = make_fit_outcomes({k: tables[k] for k in ("orders", "order_lines", "returns")}, until, return_window_days=rw).frame  # fmt: skip
    bras = (
        frame[frame["category"] == "bra"]
        .groupby("customer_id", observed=True)["order_id"]
        .nunique()
    )
    ids = bras[bras >= 3].index
    belief = Belief("bra", p.simulate.sizes, fit, true_idx["bra"])
    by_c = customer_orders(tables, guide, rec_end, offsets, until + dt.timedelta(days=1), "bra")
    right = []
    for c in ids:
        mode = belief.grid[np.argmax(log_posterior(belief, by_c[c], fit, fit.size_guide_correct))]
        right.append(bool((mode == true_idx["bra"][pos[c]]).all()))
    out["true_size_recovery_ceiling"] = round(float(np.mean(right)), 4)
    out["true_size_recovery_customers"] = len(ids)
    write_results("size_ceiling", out)


if __name__ == "__main__":
    main()
