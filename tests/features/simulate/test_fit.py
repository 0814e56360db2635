"""The fit model: exact probabilities on literal sizes, and what the simulation shows."""

import numpy as np
import pytest
from scipy.special import expit

from features.config import SimFitParams
from features.simulate.fit import (
    bra_gap,
    fit_probabilities,
    fit_return_probability,
    parse_size,
)

FIT = SimFitParams(band_weight=0.8, threshold=0.7, noise_scale=0.25, return_if_misfit=0.7)


def test_true_size_of_a_neutral_product_fits_most_often():
    small, fit, large = fit_probabilities("34C", "34C", 0.0, fit=FIT)
    assert small[0] == pytest.approx(expit(-2.8))
    assert large[0] == pytest.approx(expit(-2.8))
    assert fit[0] == pytest.approx(1 - 2 * expit(-2.8))


def test_sister_sizes_share_cup_volume_but_the_band_still_counts():
    # 32D and 36B hold the volume of 34C; only the band differs, by one step.
    assert bra_gap(3, 3, 2, 4, band_weight=0.8) == pytest.approx(-0.8)
    assert bra_gap(3, 3, 4, 2, band_weight=0.8) == pytest.approx(0.8)
    assert bra_gap(3, 3, 3, 4, band_weight=0.8) == pytest.approx(1.0)  # 34D: one cup up
    small, _, large = fit_probabilities(["34C", "34C"], ["32D", "36B"], [0.0, 0.0], fit=FIT)
    assert small[0] == pytest.approx(expit((-0.7 + 0.8) / 0.25))
    assert large[1] == pytest.approx(expit((0.8 - 0.7) / 0.25))


def test_a_product_that_runs_small_pushes_toward_too_small():
    small, _, _ = fit_probabilities(["M", "M"], ["M", "M"], [0.0, -0.5], fit=FIT)
    assert small[1] > small[0]
    assert small[1] == pytest.approx(expit((-0.7 + 0.5) / 0.25))


def test_fit_return_probability_scales_the_misfit_chance():
    p = fit_return_probability(["L"], ["M"], [0.0], fit=FIT)
    _, fit, _ = fit_probabilities(["L"], ["M"], [0.0], fit=FIT)
    assert p[0] == pytest.approx(0.7 * (1 - fit[0]))


def test_sizes_parse_and_bad_labels_list_the_valid_ones():
    band, cup, alpha = parse_size(["34C", "XL", "28AA"])
    assert band.tolist() == [3, -1, 0] and cup.tolist() == [3, -1, 0]
    assert alpha.tolist() == [-1, 4, -1]
    with pytest.raises(ValueError, match=r"size '34Z' is neither a bra size .* nor one of XS"):
        parse_size(["34Z"])
    with pytest.raises(ValueError, match="same kind"):
        fit_probabilities("34C", "M", 0.0, fit=FIT)


def test_simulated_fit_returns_rise_with_the_size_gap(moderate_frames):
    f = moderate_frames
    lines = f["order_lines"].merge(f["orders"][["order_id", "customer_id"]], on="order_id")
    lines = lines.merge(f["truth_customers"], on="customer_id").merge(
        f["truth_products"][["product_id", "size_offset"]], on="product_id"
    )
    ret = f["returns"].set_index("line_id").reason
    lines["fit_return"] = lines.line_id.map(ret).isin(["too_small", "too_large"])
    bra = lines[lines.category == "bra"]
    band, cup, _ = parse_size(bra["size"].to_numpy())
    tb, tc, _ = parse_size(bra.true_size.to_numpy())
    gap = np.abs(bra_gap(tb, tc, band, cup, band_weight=0.8) + bra.size_offset.to_numpy())
    rate = bra.fit_return.groupby(np.digitize(gap, [0.5, 1.0, 1.5])).mean()
    assert rate.is_monotonic_increasing
    assert rate.iloc[0] < 0.15 and rate.iloc[-1] > 0.6
