import numpy as np
import pytest

from models.size_learning import (
    Moves,
    PickTerms,
    Rates,
    Steps,
    misfit_chance,
    pick_terms,
    rate_counts,
    rates_from_counts,
    step_coordinates,
)


def test_picks_group_one_order_in_one_size_and_point_to_the_previous_time():
    steps = Steps.from_purchases(
        cust=np.array([0, 0, 0, 0, 1, 1]),
        size=np.array([2, 2, 3, 4, 1, 1]),
        time=np.array([1, 1, 2, 2, 5, 7]),
        guide=np.array([False, False, True, False, False, False]),
    )
    # c0: (t1, size 2) then two sizes at t2, both after t1; c1: t5 then t7
    assert steps.cust.tolist() == [0, 0, 0, 1, 1]
    assert steps.size.tolist() == [2, 3, 4, 1, 1]
    assert steps.prev.tolist() == [-1, 0, 0, -1, 3]
    assert steps.guide.tolist() == [False, True, False, False, False]
    assert steps.rows.toarray().sum(axis=1).tolist() == [2, 1, 1, 1, 1]
    assert steps.last.tolist() == [2, 4]


def test_one_step_moves_count_closer_neighbours():
    moves = Moves.on_grid(np.arange(4)[:, None])
    assert moves.distance[0].tolist() == [0, 1, 2, 3]
    # from size 1: toward 3 only size 2 is closer; toward 1 itself no neighbour is
    assert moves.n_closer[1].tolist() == [1, 0, 1, 1]


def test_pick_terms_stay_move_fresh_and_guide():
    moves = Moves.on_grid(np.arange(3)[:, None])
    log_fresh = np.log(np.full((3, 3), 0.2))
    rates = Rates(learn=0.5, guide=0.4, fresh=0.1)
    chance = np.full((4, 3), 0.8)  # her previous pick misfit with probability 0.8
    x = np.array([1, 2, 0, 1])
    prev = np.array([1, 1, -1, -1])
    guide = np.array([False, False, False, True])
    t = pick_terms(x, prev, chance, guide, log_fresh, moves, rates)
    learn = 0.5 * 0.8
    # stayed in 1: certain if 1 is hers, else she did not learn
    np.testing.assert_allclose(t.dynamic[0], 0.9 * np.array([1 - learn, 1, 1 - learn]))
    # moved 1 -> 2: she learned, and only size 2 lies that way
    np.testing.assert_allclose(t.dynamic[1], 0.9 * np.array([0, 0, learn]))
    np.testing.assert_allclose(t.fresh[:2], 0.1 * 0.2)
    # first picks come from the choice model; a guided one is hers with 0.4
    np.testing.assert_allclose(t.fresh[2], 0.2)
    np.testing.assert_allclose(t.guided[3], [0, 0.4, 0])
    np.testing.assert_allclose(t.fresh[3], 0.6 * 0.2)
    np.testing.assert_allclose(t.total[3], [0.12, 0.52, 0.12])
    assert (t.learn[2:] == 0).all()


def test_a_recorded_fit_may_hide_a_misfit():
    proba = np.array([[[0.1, 0.5, 0.4]], [[0.1, 0.5, 0.4]]])[:, 0, :][:, None, :]
    m = misfit_chance(proba, np.array([[1], [2]]), report_rate=0.8)
    np.testing.assert_allclose(m[:, 0], [0.2 * 0.5 / (1 - 0.8 * 0.5), 1.0])


def test_rates_from_expected_counts():
    # one customer of size 1: a guided first pick of 1, then a stay after a sure misfit
    steps = Steps.from_purchases(
        cust=np.array([0, 0]), size=np.array([1, 1]), time=np.array([1, 2]),
        guide=np.array([True, False]),
    )  # fmt: skip
    terms = PickTerms(
        guided=np.array([[0.0, 0.5, 0.0], [0, 0, 0]]),
        fresh=np.array([[0.25, 0.5, 0.25], [0.01, 0.01, 0.01]]),
        dynamic=np.array([[0.0, 0, 0], [0.5, 0.99, 0.5]]),
        learn=np.array([[0.0, 0, 0], [0.5, 0.5, 0.5]]),
    )
    resp = np.array([[0.5, 0.0, 0.5], [0.5, 0.0, 0.5]])  # she is 0 or 2, not 1
    prev_size = np.where(steps.prev >= 0, steps.size[np.maximum(steps.prev, 0)], -1)
    counts = rate_counts(terms, resp, steps.size, prev_size, steps.guide, Rates(learn=0.5))
    # counts add over chunks of picks
    halves = sum(
        rate_counts(terms_part, resp[k : k + 1], steps.size[k : k + 1], prev_size[k : k + 1],
                    steps.guide[k : k + 1], Rates(learn=0.5))
        for k, terms_part in enumerate(
            PickTerms(terms.guided[k : k + 1], terms.fresh[k : k + 1],
                      terms.dynamic[k : k + 1], terms.learn[k : k + 1]) for k in range(2)
        )
    )  # fmt: skip
    np.testing.assert_allclose(halves, counts)
    rates = rates_from_counts(counts, pseudocount=1.0)
    assert rates.guide == pytest.approx(1 / 3)  # the guide's size took no mass
    assert rates.fresh == pytest.approx((0.01 / 0.51 + 1) / (1 + 2))
    # a stay off her size after a sure misfit (m = 1): one misfit not learned from
    w = 0.5 / 0.51
    assert rates.learn == pytest.approx(1 / (w + 2))
    assert rates_from_counts(counts, 1.0, min_fresh=0.9).fresh == 0.9


def test_bra_steps_count_band_and_cup_letter():
    grid_pos = np.array([[3, 5], [2, 5]])  # (band, cup volume): 34C and its sister 32D
    assert step_coordinates("bra", grid_pos).tolist() == [[3, 2], [2, 3]]
