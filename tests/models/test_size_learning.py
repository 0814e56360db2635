import numpy as np
import pytest
import scipy.sparse as sp

from models.size_learning import AWAY, Transitions, fitted_rates, log_factors, step_coordinates


def test_a_misfit_pairs_with_her_first_purchase_strictly_after():
    tr = Transitions.from_purchases(
        cust=np.array([0, 0, 0, 1, 1]),
        size=np.array([2, 3, 3, 1, 1]),
        misfit=np.array([True, False, True, True, False]),
        time=np.array([1, 2, 3, 1, 1]),
    )
    # c0's last misfit has no later purchase; c1's next purchase is at the same time
    assert (tr.cust.tolist(), tr.src.tolist(), tr.dst.tolist()) == ([0], [2], [3])


def test_moves_point_toward_her_size_and_stays_confirm_it():
    tr = Transitions(cust=np.array([0, 1]), src=np.array([2, 1]), dst=np.array([3, 1]))
    steps = np.arange(5)[:, None]
    out = log_factors(tr, steps, 2, move_rate=0.5, stray_rate=0.1)
    moved = np.log([0.5 * AWAY, 0.5 * AWAY, 0.1, 0.5, 0.5])  # 2 -> 3: sizes 3 and 4 closer
    stayed = np.log([0.5, 0.9, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(out, [moved, stayed])


def test_rates_from_expected_counts():
    tr = Transitions(cust=np.array([0, 1]), src=np.array([2, 1]), dst=np.array([3, 1]))
    posterior = sp.csr_matrix(np.array([[0, 0, 0, 1.0, 0], [0, 1.0, 0, 0, 0]]))
    assert fitted_rates(tr, posterior, pseudocount=1.0) == pytest.approx((2 / 3, 1 / 3))


def test_bra_steps_count_band_and_cup_letter():
    grid_pos = np.array([[3, 5], [2, 5]])  # (band, cup volume): 34C and its sister 32D
    assert step_coordinates("bra", grid_pos).tolist() == [[3, 2], [2, 3]]
