import pytest

from clincoder.training.uk import smoothed_best


@pytest.mark.parametrize("f1, expected", [
    ([0.50, 0.57, 0.58, 0.57, 0.50], 2),        # a rounded top: its middle
    ([0.50, 0.55, 0.62, 0.50, 0.58, 0.59, 0.57, 0.50], 5),  # a lone spike loses to a broad top
    ([0.40, 0.40, 0.40], 2),                    # flat: the higher threshold (fewer suggestions)
])
def test_the_threshold_is_chosen_on_a_smoothed_f1_curve(f1, expected):
    assert smoothed_best(f1) == expected


def test_no_smoothing_takes_the_plain_maximum():
    assert smoothed_best([0.5, 0.6, 0.55], half_width=0) == 1
