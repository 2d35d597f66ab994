"""Reference kernels: the hand-known k = 3 kernels and orthonormality for every k."""

from __future__ import annotations

import numpy as np
import pytest

from niftycnn.errors import SpecError
from niftycnn.kernels import (
    first_difference,
    gram_basis,
    orthonormality_error,
    reference_kernels,
    reference_matrix,
)


def test_k3_degree_one_and_two_are_normalised_momentum_and_curvature() -> None:
    basis = gram_basis(3)
    np.testing.assert_allclose(basis[1], np.array([-1.0, 0.0, 1.0]) / np.sqrt(2), atol=1e-12)
    np.testing.assert_allclose(basis[2], np.array([1.0, -2.0, 1.0]) / np.sqrt(6), atol=1e-12)
    np.testing.assert_allclose(basis[0], np.ones(3) / np.sqrt(3), atol=1e-12)


@pytest.mark.parametrize("k", range(2, 12))
def test_gram_basis_is_orthonormal_for_every_kernel_length(k: int) -> None:
    basis = gram_basis(k)
    assert basis.shape == (min(3, k), k)
    assert orthonormality_error(basis) < 1e-12
    assert np.all(basis[:, -1] > 0)  # momentum rises to the most recent tap


def test_first_difference_is_the_two_most_recent_taps() -> None:
    np.testing.assert_allclose(first_difference(4), np.array([0, 0, -1, 1]) / np.sqrt(2))
    names, mat = reference_matrix(5)
    assert names == ("level", "momentum", "curvature", "first_difference")
    np.testing.assert_allclose(np.linalg.norm(mat, axis=1), 1.0)


def test_short_kernels_drop_missing_degrees_and_bad_lengths_raise() -> None:
    assert tuple(reference_kernels(2)) == ("level", "momentum", "first_difference")
    with pytest.raises(SpecError):
        gram_basis(0)
    with pytest.raises(SpecError):
        first_difference(1)
