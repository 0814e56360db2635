"""Does the size recommender scale to a million order lines? Fit time, memory, recovery.

Simulates ``--rows`` purchases from known parameters (true bra and alpha size per
customer, a size offset per product, customers buying their own size or a neighbour,
outcomes from the "both" link: a bra fits when band and cup fit), fits
``SizeRecommender`` and times fit, recommendation and fit-probability scoring.
``python -m benchmarks.size_scale [--rows N]``.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from benchmarks.common import peak_rss_gb, timed, write_results
from features.contract.schema import ALPHA_SIZES, BRA_BANDS, BRA_CUPS, FIT_FEEDBACK
from models.ordinal_link import combine_proba, link_proba
from models.size_metrics import true_size_recovery
from models.size_recommender import SizeRecommender

SLOPE, HALF_WIDTH = 4.0, 0.8
MOVES = np.array([(0, 0)] * 14 + [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1)])


def simulate(rows: int, customers: int, products: int, seed: int):
    """Purchases and the true bra size of every customer (vectorized)."""
    rng = np.random.default_rng(seed)
    band = np.clip(np.rint(rng.normal(3.5, 1.5, customers)), 0, 9).astype(int)
    cup = np.clip(np.rint(rng.normal(3.0, 1.5, customers)), 0, 8).astype(int)
    alpha = np.clip(np.rint(rng.normal(3.5, 1.2, customers)), 0, 7).astype(int)
    offset = np.rint(rng.normal(0.0, 0.3, (products, 2)) * 2) / 2
    is_bra = np.arange(products) % 2 == 0
    u, p = rng.integers(0, customers, rows), rng.integers(0, products, rows)
    move = MOVES[rng.integers(0, len(MOVES), rows)]
    b = np.clip(band[u] + move[:, 0], 0, 9)
    c = np.clip(band[u] + cup[u] + move[:, 1] - b, 0, 8)
    q_band = link_proba(b - band[u] - offset[p, 0], SLOPE, HALF_WIDTH)
    q_vol = link_proba(b + c - band[u] - cup[u] - offset[p, 1], SLOPE, HALF_WIDTH)
    a = np.clip(alpha[u] + move[:, 1], 0, 7)
    q_alpha = link_proba(a - alpha[u] - offset[p, 0], SLOPE, HALF_WIDTH)
    proba = np.where(is_bra[p, None], combine_proba(q_band, q_vol), q_alpha)
    y = np.minimum((rng.random(rows)[:, None] > np.cumsum(proba, axis=1)).sum(axis=1), 2)
    bra_labels = np.array([f"{bb}{cc}" for bb in BRA_BANDS for cc in BRA_CUPS])
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(u).map("c{}".format),
            "product_id": pd.Series(p).map("p{}".format),
            "category": np.where(is_bra[p], "bra", "knickers"),
            "size": np.where(
                is_bra[p], bra_labels[b * len(BRA_CUPS) + c], np.array(ALPHA_SIZES)[a]
            ),
            "fit": np.array(FIT_FEEDBACK)[y],
            # Purchase times over a year: the recommender orders each history by them.
            "ts": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 365 * 86_400, rows), unit="s"),
        }
    )
    truth = pd.Series(
        bra_labels[band * len(BRA_CUPS) + cup], index=[f"c{i}" for i in range(customers)]
    )
    return frame, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    stages: dict[str, float] = {}
    with timed(stages, "simulate_s"):
        frame, truth = simulate(args.rows, args.rows // 4, args.products, args.seed)
    model = SizeRecommender(bra_link="both", random_state=0)  # as simulated
    with timed(stages, "fit_s"):
        model.fit(frame, frame["fit"])
    sample = frame.sample(100_000, random_state=0) if len(frame) > 100_000 else frame
    with timed(stages, "recommend_100k_s"):
        model.recommend(sample)
    with timed(stages, "predict_fit_proba_100k_s"):
        model.predict_fit_proba(sample)
    bras = frame[frame["category"] == "bra"].groupby("customer_id").size()
    ids = bras[bras >= 3].index
    est = model.predict_true_size(ids, "bra")
    bra = model.systems_["bra"]
    write_results(
        "size_scale",
        {
            "rows": len(frame),
            "customers": int(frame["customer_id"].nunique()),
            "products": args.products,
            **stages,
            "em_iterations": model.n_iter_,
            "converged": model.converged_,
            "peak_rss_gb": round(peak_rss_gb(), 2),
            "true_size_recovery_3plus_bras": round(true_size_recovery(est["size"], truth[ids]), 4),
            "customers_3plus_bras": len(ids),
            "bra_slope": bra.fit.link.slope.round(3).tolist(),
            "bra_half_width": bra.fit.link.half_width.round(3).tolist(),
            "true_slope": SLOPE,
            "true_half_width": HALF_WIDTH,
        },
    )


if __name__ == "__main__":
    main()
