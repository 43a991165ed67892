"""How the CSR and BSR models share work over a device's units (accelsim.dataflows.library_kernels.kernel_models.
row_sparse_time): the prediction is monotone in the work on real patterns (more nonzeros, rows or columns of X never
cost less), with no cliff where the rows stop dividing by the units, on the fitted CPU (2 threads, rows shared out)
and on the H100 (132 SMs, one row x 32 columns a task). Hand-computed cases are in test_library_kernel_models.py."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from accelsim.arch_configs import load_arch
from accelsim.dataflows.library_kernels.features import features_of_matrices
from accelsim.dataflows.library_kernels.kernel_models import predict

DEVICES = ("cpu-xeon-2vcpu", "h100-sxm")
BLOCK = (16, 16)


@functools.cache
def _device(name: str):
    config = load_arch(name).dataflow.config
    return config.kernels, config.parallel_units


def _time(weight: np.ndarray, m: int, kernel: str, device: str) -> float:
    kernels, units = _device(device)
    f = features_of_matrices([weight], [weight], m=m, parallel_units=units, block=BLOCK)
    return predict(f, kernel, "fp32", kernels).total_s


def _random_rows(rows: int, width: int, density: float, seed: int, block: bool = False) -> np.ndarray:
    """A weight at `density`: unstructured, or whole 16x16 blocks (then rows must be a multiple of 16)."""
    rng = np.random.default_rng(seed)
    if not block:
        return rng.standard_normal((rows, width)) * (rng.random((rows, width)) < density)
    keep = rng.random((rows // BLOCK[0], width // BLOCK[1])) < density
    return rng.standard_normal((rows, width)) * np.kron(keep, np.ones(BLOCK))


def _even_rows(rows: int, width: int, per_row: int) -> np.ndarray:
    """Every row with `per_row` nonzeros, spread over the columns (an evenly spread weight)."""
    weight = np.zeros((rows, width))
    for row in range(rows):
        weight[row, (row * 7 + np.arange(per_row) * (width // per_row)) % width] = 1.0 + row
    return weight


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kernel", ["csr", "bsr"])
@pytest.mark.parametrize("m", [1, 16, 49, 128, 3136])
def test_more_rows_never_cost_less(device, kernel, m):
    # the same rows and more at the same density: K from 16 to 320, through 128, 132 (= the H100's SMs) and 133
    step = 16 if kernel == "bsr" else 1
    weight = _random_rows(320, 512, 0.1, seed=m, block=kernel == "bsr")
    sizes = [k for k in range(16, 321, step) if kernel == "bsr" or k <= 160 or k % 16 == 0]
    times = [_time(weight[:k], m, kernel, device) for k in sizes]
    assert all(later >= earlier * (1 - 1e-12) for earlier, later in itertools.pairwise(times)), \
        [(k, t) for k, t in zip(sizes, times, strict=True)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("m", [1, 16, 49, 128, 3136])
def test_132_rows_are_never_faster_than_128_and_133_has_no_cliff(device, m):
    for weight in (_even_rows(133, 512, 51), _random_rows(133, 512, 0.1, seed=m)):
        t128, t132, t133 = (_time(weight[:k], m, "csr", device) for k in (128, 132, 133))
        assert t128 <= t132 <= t133
        # one row more than the units is at most one row's share more work, not a second round of rows
        assert t133 <= t132 * (1 + 1.5 / 132)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kernel", ["csr", "bsr"])
@pytest.mark.parametrize("m", [1, 49, 3136])
def test_more_nonzeros_never_cost_less(device, kernel, m):
    # nonzeros (or 16x16 blocks) switched on one batch at a time in a random order, up to the dense weight
    rng = np.random.default_rng(m)
    shape = (256, 512)
    cells = (shape[0] // BLOCK[0]) * (shape[1] // BLOCK[1]) if kernel == "bsr" else shape[0] * shape[1]
    order = rng.permutation(cells)
    times = []
    for count in np.linspace(0, cells, 41).astype(int):
        on = np.zeros(cells, dtype=bool)
        on[order[:count]] = True
        mask = on.reshape(shape[0] // BLOCK[0], -1) if kernel == "bsr" else on.reshape(shape)
        weight = np.kron(mask, np.ones(BLOCK)) if kernel == "bsr" else mask.astype(float)
        times.append(_time(weight, m, kernel, device))
    assert all(later >= earlier * (1 - 1e-12) for earlier, later in itertools.pairwise(times))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kernel", ["csr", "bsr"])
def test_wider_x_never_costs_less(device, kernel):
    weight = _random_rows(256, 512, 0.2, seed=3, block=kernel == "bsr")
    widths = [1, 2, 3, 8, 16, 31, 32, 33, 49, 64, 100, 128, 196, 784, 3136, 12544]
    times = [_time(weight, m, kernel, device) for m in widths]
    assert all(later >= earlier for earlier, later in itertools.pairwise(times))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("m", [1, 49, 3136])
def test_halving_an_evenly_spread_weight_halves_the_stream_term(device, m):
    kernels, units = _device(device)
    full, half = (predict(features_of_matrices([w], [w], m=m, parallel_units=units), "csr", "fp32", kernels)
                  for w in (_even_rows(256, 512, 64), _even_rows(256, 512, 32)))
    assert half.busy_s == pytest.approx(full.busy_s / 2, rel=1e-12)
    # the busiest unit's stream and index work halve too (load imbalance included); outputs and launch do not
    assert half.busy_s + half.load_imbalance_s == pytest.approx((full.busy_s + full.load_imbalance_s) / 2, rel=1e-12)
