import numpy as np

from models.size_em import LOG_FLOOR, SystemData, choice_log_z, grid_index, position_lookup


def test_purchases_share_cells_by_item_size_and_outcome():
    grid = np.arange(4.0)[:, None]
    data = SystemData.from_purchases(
        y=np.array([1, 1, 0, 1]),
        weight=np.array([1.0, 2.0, 1.0, 1.0]),
        x=np.array([[1.0], [1.0], [1.0], [2.0]]),
        pos=np.array([[1], [1], [1], [2]]),
        cust=np.array([1, 0, 0, 1]),
        item=np.array([0, 0, 0, 0]),
        n_item=1,
        grid=grid,
        grid_pos=grid.astype(int),
        window=1,
        kind="numeric",
    )
    assert data.cust.tolist() == [0, 0, 1, 1]  # sorted by customer, stable
    assert data.weight.tolist() == [2.0, 1.0, 1.0, 1.0]
    # cells: (size 1, too small), (size 1, fit), (size 2, fit)
    assert data.cell_y.tolist() == [0, 1, 1] and data.cell_x[:, 0].tolist() == [1, 1, 2]
    assert data.cell.tolist() == [1, 0, 1, 2] and data.n_cust == 2


def test_choice_normalizer_counts_the_sizes_within_reach():
    log_h = np.log(np.array([0.25, 0.5, 0.25]))  # gaps -1, 0, +1
    log_z = choice_log_z(log_h, np.arange(3)[:, None], window=1)
    # the end sizes reach only two sizes of the grid within the window, plus the floor
    floor = np.exp(LOG_FLOOR)
    np.testing.assert_allclose(np.exp(log_z), [0.75 + floor, 1.0, 0.75 + floor])


def test_grid_index_of_positions_off_the_grid_is_minus_one():
    dense, low = position_lookup(np.array([[0, 0], [0, 1], [1, 1]]))
    got = grid_index(np.array([[0, 1], [1, 0], [1, 1], [5, 5], [-1, 0]]), dense, low)
    assert got.tolist() == [1, -1, 2, -1, -1]
