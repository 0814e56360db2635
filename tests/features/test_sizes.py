import numpy as np
import pytest

from features.sizes import (
    alpha_step,
    band_step,
    bra_label,
    cup_step,
    cup_volume,
    parse_bra_size,
    sister_sizes,
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
