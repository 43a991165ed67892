"""Systolic kernels against plain numpy, both jitted and as pure Python (`.py_func`)."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.dataflows.systolic.jit import folded_gemm, nm_compress, nm_gemm

VARIANTS = ("jit", "py")


def call(kernel, variant, *args):
    # Under NUMBA_DISABLE_JIT=1 kernels are plain functions without .py_func.
    return (kernel if variant == "jit" else getattr(kernel, "py_func", kernel))(*args)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("stationary", [0, 1, 2])
@pytest.mark.parametrize(("m", "w", "k", "rows", "cols"), [(7, 5, 3, 2, 2), (4, 9, 6, 4, 5), (1, 1, 1, 3, 3),
                                                            (10, 3, 8, 3, 1)])
def test_folded_gemm_equals_matmul(variant, stationary, m, w, k, rows, cols):
    rng = np.random.default_rng(m * 100 + w * 10 + k)
    a, b = rng.standard_normal((m, w)), rng.standard_normal((w, k))
    np.testing.assert_allclose(call(folded_gemm, variant, a, b, rows, cols, stationary), a @ b, atol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
def test_nm_compress_keeps_the_nonzeros_and_pads(variant):
    # One column, W = 8 in two groups of 4: group 0 holds 2 nonzeros (rows 1 and 3), group 1 one (row 6).
    b = np.zeros((8, 1))
    b[1, 0], b[3, 0], b[6, 0] = 5.0, -2.0, 7.0
    values, indices, fits = call(nm_compress, variant, b, 2, 4)
    assert fits
    assert values[:, 0].tolist() == [5.0, -2.0, 7.0, 0.0]
    assert indices[:, 0].tolist() == [1, 3, 6, 4]  # the padding entry points at its group's first row


@pytest.mark.parametrize("variant", VARIANTS)
def test_nm_compress_reports_a_group_too_dense(variant):
    b = np.zeros((4, 2))
    b[:3, 1] = 1.0
    assert not call(nm_compress, variant, b, 2, 4)[2]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("n", "m"), [(2, 4), (1, 4), (1, 2), (4, 8)])
def test_nm_gemm_equals_dense_product(variant, n, m):
    rng = np.random.default_rng(n * 10 + m)
    w, k = 4 * m, 5
    b = rng.standard_normal((w, k))
    for j in range(k):  # keep n random entries per group
        for g in range(w // m):
            drop = rng.permutation(m)[n:]
            b[g * m + drop, j] = 0.0
    a = rng.standard_normal((6, w))
    values, indices, fits = call(nm_compress, variant, b, n, m)
    assert fits and values.shape == (w // m * n, k)
    np.testing.assert_allclose(call(nm_gemm, variant, a, values, indices), a @ b, atol=1e-12)
