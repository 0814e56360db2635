import numpy as np
import pytest

from features.sizes import (
    alpha_step,
    band_step,
    bra_label,
    cup_step,
    cup_volume,
    infer_size_kind,
    parse_bra_size,
    sister_sizes,
    size_coordinates,
    size_grid,
)


def test_sister_sizes_share_cup_volume():
    assert sister_sizes(34, "C") == [(32, "D"), (36, "B")]
    vols = [cup_volume(b, cup_step(c)) for b, c in [(34, "C"), (32, "D"), (36, "B")]]
    assert vols == [6, 6, 6]


def test_sister_sizes_stop_at_the_ends_of_the_range():
    assert sister_sizes(28, "AA") == []  # no band below 28, no cup below AA
    assert sister_sizes(28, "A") == [(30, "AA")]
    assert sister_sizes(46, "A") == [(44, "B")]
    assert sister_sizes(46, "H") == []  # no band above 46, no cup above H


def test_steps_are_ordinal_and_vectorize():
    assert band_step(np.array([28, 34, 46])).tolist() == [0, 3, 9]
    assert cup_step("aa") == 0 and cup_step("H") == 8
    assert alpha_step("xs") == 1


@pytest.mark.parametrize(("label", "parsed"), [("34C", (34, "C")), (" 32 e ", (32, "E"))])
def test_parse_bra_size(label, parsed):
    assert parse_bra_size(label) == parsed
    assert bra_label(*parsed) == f"{parsed[0]}{parsed[1]}"


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("M", "not a bra size"),
        ("50C", "band 50 in '50C' is not one of"),
        ("34Z", "unknown cup 'Z'"),
    ],
)
def test_bad_sizes_say_what_is_valid(label, message):
    with pytest.raises(ValueError, match=message):
        parse_bra_size(label)


def test_size_coordinates_put_sister_sizes_on_one_cup_volume():
    coords = size_coordinates(["34C", "32D", "36B", "34D"], "bra")
    np.testing.assert_array_equal(coords, [[3, 6], [2, 6], [4, 6], [3, 7]])
    np.testing.assert_array_equal(size_coordinates(["xs", "M", "3XL"], "alpha"), [[1], [3], [7]])
    np.testing.assert_array_equal(size_coordinates([8, "10.5"], "numeric"), [[8], [10.5]])


@pytest.mark.parametrize(
    ("labels", "kind"), [(["34C", "30D"], "bra"), (["S", "xl"], "alpha"), (["8", "10"], "numeric")]
)
def test_infer_size_kind(labels, kind):
    assert infer_size_kind(labels) == kind


def test_infer_size_kind_lists_labels_that_fit_no_kind():
    with pytest.raises(ValueError, match="size labels mix kinds .*: '34C', 'M'"):
        infer_size_kind(["M", "34C"])


def test_size_coordinates_name_the_bad_label_and_row():
    with pytest.raises(ValueError, match="row 2: unknown alpha size 'Q'"):
        size_coordinates(["M", "S", "Q"], "alpha")
    with pytest.raises(ValueError, match="unknown size kind 'bras'. Did you mean 'bra'"):
        size_coordinates(["34C"], "bras")


def test_size_grids():
    coords, labels = size_grid("bra")
    assert len(labels) == 90 and labels[:2] == ["28AA", "28A"] and labels[-1] == "46H"
    np.testing.assert_array_equal(coords[labels.index("34C")], [3, 6])
    coords, labels = size_grid("numeric", ["10", "8", "8.0", "12"])
    assert labels == ["8", "10", "12"] and coords[:, 0].tolist() == [8, 10, 12]
    with pytest.raises(ValueError, match="numeric sizes need the observed labels"):
        size_grid("numeric")
