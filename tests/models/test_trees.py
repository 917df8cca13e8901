import pickle

import numpy as np
import pytest

from clincoder.models.trees import TreeScorer


def _forest():
    """Two trees. Tree 0 (nodes 0-4): x0 <= 0.5 ? (x1 <= 2.0 ? 1.0 : 2.0) : 3.0.
    Tree 1 (node 5): a single leaf worth 0.25."""
    feature = np.array([0, 1, -1, -1, -1, -1])
    split = np.array([0.5, 2.0, 0.0, 0.0, 0.0, 0.0])
    left = np.array([1, 2, 0, 0, 0, 0])
    right = np.array([4, 3, 0, 0, 0, 0])
    value = np.array([0.0, 0.0, 1.0, 2.0, 3.0, 0.25])
    return TreeScorer(np.array([0, 5]), feature, split, left, right, value)


@pytest.mark.parametrize("row, expected", [
    ((0.5, 2.0), 1.25),  # a value equal to the split goes left
    ((0.5, 2.0000001), 2.25),
    ((0.5000001, 0.0), 3.25),
    ((np.nan, 0.0), 3.25),  # missing goes right
    ((-1.0, np.nan), 2.25),
])
def test_each_row_sums_the_leaves_it_reaches(row, expected):
    assert _forest()(np.array([row]))[0] == pytest.approx(expected, abs=1e-6)


def test_no_rows_or_no_trees_score_zero_and_a_pickle_leaves_the_session_behind():
    scorer = _forest()
    assert scorer(np.zeros((0, 2))).shape == (0,)
    empty = TreeScorer(*(np.zeros(0, dtype=int) for _ in range(6)))
    assert empty(np.ones((3, 2))).tolist() == [0.0, 0.0, 0.0]
    scorer(np.zeros((1, 2)))  # builds the session
    again = pickle.loads(pickle.dumps(scorer))
    assert again(np.array([[0.0, 0.0]]))[0] == pytest.approx(1.25)
