"""Threshold logic units: the seed's gates and the truth-table builder, exactly."""

import itertools

import numpy as np
import pytest

from numnet.classic import (
    ThresholdUnit,
    TLUNetwork,
    and_unit,
    not_unit,
    or_unit,
    truth_table,
    truth_table_network,
)

ROWS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def test_seed_gates():
    # or(u, v) = 1{u + v - 0.5 >= 0}: u + v - 0.5 = -0.5, 0.5, 0.5, 1.5 on the four rows
    np.testing.assert_array_equal(or_unit()(ROWS), [0, 1, 1, 1])
    # and(u, v) = 1{u + v - 1.5 >= 0}: -1.5, -0.5, -0.5, 0.5
    np.testing.assert_array_equal(and_unit()(ROWS), [0, 0, 0, 1])
    # not(u) = 1{-u + 0.5 >= 0}: 0.5 then -0.5
    np.testing.assert_array_equal(not_unit()(np.array([[0], [1]])), [1, 0])
    assert and_unit().bias == -1.5 and or_unit().bias == -0.5 and not_unit().bias == 0.5


def test_n_input_gates():
    rows = np.array(list(itertools.product((0, 1), repeat=4)))
    np.testing.assert_array_equal(and_unit(4)(rows), rows.all(axis=1))
    np.testing.assert_array_equal(or_unit(4)(rows), rows.any(axis=1))


def test_xor_network_is_exact_and_has_one_unit_per_true_row():
    inputs, outputs = truth_table(lambda u, v: u != v, 2)
    np.testing.assert_array_equal(inputs, ROWS)
    np.testing.assert_array_equal(outputs, [0, 1, 1, 0])
    net = truth_table_network(outputs)
    np.testing.assert_array_equal(net(inputs), [0, 1, 1, 0])
    assert net.layers[0][0].shape == (2, 2)  # two true rows -> two hidden units
    # row (0, 1): w = (-1, 1), b = 0.5 - 1 = -0.5
    np.testing.assert_array_equal(net.layers[0][0][0], [-1, 1])
    assert net.layers[0][1][0] == -0.5


@pytest.mark.parametrize("fn", [np.logical_and, np.logical_or, np.logical_xor])
def test_two_input_tables(fn):
    inputs, outputs = truth_table(fn, 2)
    np.testing.assert_array_equal(truth_table_network(outputs)(inputs), outputs)


@pytest.mark.parametrize("n_inputs", [1, 3, 4])
def test_random_truth_tables_are_exact(n_inputs):
    rng = np.random.default_rng(n_inputs)
    inputs, _ = truth_table(lambda *bits: 0, n_inputs)
    tables = [rng.integers(0, 2, size=2**n_inputs) for _ in range(30)]
    tables += [np.zeros(2**n_inputs, int), np.ones(2**n_inputs, int)]  # constants
    for outputs in tables:
        net = truth_table_network(outputs)
        np.testing.assert_array_equal(net(inputs), outputs)
        assert net.layers[0][0].shape[0] == outputs.sum()


def test_parity_of_four_inputs():
    inputs, outputs = truth_table(lambda *bits: sum(bits) % 2, 4)
    np.testing.assert_array_equal(truth_table_network(outputs)(inputs), outputs)


def test_single_row_and_manual_network():
    assert ThresholdUnit([1, 1], -1.5)([1, 1]).tolist() == [1]
    # NOT then AND: and(not u, v)
    net = TLUNetwork(
        [
            (np.array([[-1.0, 0.0], [0.0, 1.0]]), np.array([0.5, -0.5])),
            (np.array([[1.0, 1.0]]), np.array([-1.5])),
        ]
    )
    np.testing.assert_array_equal(net(ROWS), [0, 1, 0, 0])


def test_bad_inputs():
    with pytest.raises(ValueError, match="Boolean"):
        and_unit()(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="shape"):
        and_unit()(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="2ⁿ rows"):
        truth_table_network([0, 1, 1])
    with pytest.raises(ValueError, match="0 or 1"):
        truth_table_network([0, 2])
    with pytest.raises(ValueError, match="mismatched"):
        TLUNetwork([(np.ones((2, 2)), np.zeros(2)), (np.ones((1, 3)), np.zeros(1))])
