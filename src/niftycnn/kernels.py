"""Reference kernels of length k (one table, documented), shared by the models (frozen
Gram layers) and the filter analysis.

Weights are in torch's cross-correlation convention, ``out[t] = sum_j w[j] * x[t + j]``,
so the last tap multiplies the most recent day and a positive output means "rising".

- ``level``: degree-0 discrete orthogonal (Gram) polynomial, prop. to [1, 1, 1] for k=3;
- ``momentum``: degree 1, prop. to [-1, 0, 1] for k=3 (slope);
- ``curvature``: degree 2, prop. to [1, -2, 1] for k=3 (acceleration);
- ``first_difference``: [-1, 1] on the two most recent taps, zero-padded to k (the
  textbook's [1, -1] written as a convolution kernel is this cross-correlation kernel).

The Gram polynomials are the orthonormalised monomials 1, j, j^2 on the k taps
(Legendre polynomials sampled at equally spaced points); source: Gram (1883), and
e.g. Savitzky & Golay (1964), whose smoothing/derivative filters are built on them.
"""

from __future__ import annotations

import numpy as np

from niftycnn.errors import SpecError

REFERENCE_NAMES: tuple[str, ...] = ("level", "momentum", "curvature", "first_difference")
POLYNOMIAL_NAMES: tuple[str, ...] = ("level", "momentum", "curvature")


def gram_basis(k: int, max_degree: int = 2) -> np.ndarray:
    """Orthonormal discrete polynomials of degree 0..max_degree on k taps, shape (d+1, k).

    Signs are fixed so each polynomial's last tap is positive (momentum rises to the
    right, curvature is convex). Degrees above k - 1 do not exist on k points.
    """
    if k < 1:
        raise SpecError(f"kernel length must be >= 1, got {k}; use a Conv kernel of 1 or more")
    degree = min(max_degree, k - 1)
    taps = np.arange(k, dtype=np.float64) - (k - 1) / 2.0
    vander = np.vander(taps, degree + 1, increasing=True)  # columns 1, j, j^2
    q, _ = np.linalg.qr(vander)
    basis = q.T
    basis *= np.sign(basis[:, -1])[:, None]
    return basis


def first_difference(k: int) -> np.ndarray:
    """Unit-norm [-1, 1] on the two most recent taps, zero-padded to k (k >= 2)."""
    if k < 2:
        raise SpecError(f"the first difference needs k >= 2, got {k}; use a longer kernel")
    kernel = np.zeros(k)
    kernel[-2:] = (-1.0, 1.0)
    return kernel / np.sqrt(2.0)


def reference_kernels(k: int) -> dict[str, np.ndarray]:
    """Every reference kernel of length k, unit-normalised, by name (REFERENCE_NAMES order).

    For k < 3 the polynomials of degree >= k do not exist and are left out.
    """
    basis = gram_basis(k)
    refs = {name: basis[d] for d, name in enumerate(POLYNOMIAL_NAMES) if d < basis.shape[0]}
    if k >= 2:
        refs["first_difference"] = first_difference(k)
    return refs


def reference_matrix(k: int) -> tuple[tuple[str, ...], np.ndarray]:
    """The reference kernels of length k as names and a (R, k) array, in table order."""
    refs = reference_kernels(k)
    return tuple(refs), np.stack(list(refs.values()))


def orthonormality_error(basis: np.ndarray) -> float:
    """Largest |B B^T - I| entry of a (d, k) basis: 0 for an orthonormal set of rows."""
    gram = basis @ basis.T
    return float(np.max(np.abs(gram - np.eye(basis.shape[0]))))


def random_kernel_weights(n: int, channels: int, k: int, seed: int = 0) -> np.ndarray:
    """``n`` random kernels (n, channels, k) with ROCKET's weight law: every tap drawn from
    N(0, 1), then mean-centred on each channel (Dempster, Petitjean & Webb 2020, "ROCKET:
    exceptionally fast and accurate time series classification using random convolutional
    kernels", sec. 3.1). The ``rocket`` baseline convolves windows with such kernels; the
    filter analysis uses them, at the learned layer's own k, as a null: "are the learned
    filters more momentum-like than random kernels?"."""
    if n < 1 or channels < 1 or k < 1:
        raise SpecError(f"random kernels need n, channels, k >= 1; got {n}, {channels}, {k}")
    weights = np.random.default_rng(seed).standard_normal((n, channels, k))
    return weights - weights.mean(axis=-1, keepdims=True)
