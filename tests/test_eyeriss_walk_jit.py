"""The fast walk (accelsim.dataflows.eyeriss.walk_jit, walk.walk_layer) against the model's definition,
jit.walk_jobs, on random layers and settings: every per-job figure and every counter equal; its two per-layer
listings against numpy; each kernel also as its .py_func (and, under NUMBA_DISABLE_JIT=1, as plain Python)."""

from __future__ import annotations

import numpy as np
import pytest
from test_eyeriss_jit import both, walk

from accelsim.arch_configs import load_arch
from accelsim.dataflows.eyeriss import jit, taps_jit, walk_jit
from accelsim.dataflows.eyeriss.machine import v1_machine, v2_machine
from accelsim.dataflows.eyeriss.walk import walk_layer
from accelsim.workload import Layer

DENSE = ["dataflow.iact_format=uncompressed", "dataflow.weight_format=uncompressed"]
SETTINGS = {  # name: (arch, overrides)
    "v2": ("eyeriss-v2", []),
    "v2_dense": ("eyeriss-v2", DENSE),
    "v2_dense_fetch_buffer3_m0_5": ("eyeriss-v2", [*DENSE, "dataflow.fetch_buffer=3", "dataflow.m0=5"]),
    "v2_fetch_buffer2_psum_positions8": ("eyeriss-v2", ["dataflow.fetch_buffer=2", "dataflow.psum_positions=8"]),
    "v2_uncompressed_iacts_csc_weights": ("eyeriss-v2", ["dataflow.iact_format=uncompressed"]),
    "v2_csc_iacts_dense_weights": ("eyeriss-v2", ["dataflow.weight_format=uncompressed"]),
    "v2_pe": ("eyeriss-v2-pe", []),
    "v1": ("eyeriss-v1", []),
}


def random_layer(seed: int) -> Layer:
    """A small conv (stride, padding, dilation, groups, batch drawn at random) or FC layer, densities 0 to 1."""
    rng = np.random.default_rng(seed)
    act_density, weight_density = rng.choice([0.0, 0.1, 0.5, 0.9, 1.0], size=2)
    if seed % 4 == 3:
        n, c, k = rng.integers(1, 4), rng.integers(1, 70), rng.integers(1, 40)
        x = np.abs(rng.standard_normal((n, c))) * (rng.random((n, c)) < act_density)
        w = rng.standard_normal((k, c)) * (rng.random((k, c)) < weight_density)
        return Layer(name=f"fc{seed}", op="linear", input=x, weight=w)
    groups = int(rng.choice([1, 2]))
    c, k = groups * rng.integers(1, 9), groups * rng.integers(1, 12)
    r, s = rng.integers(1, 4, size=2)
    h, w_ = rng.integers(max(r, s) + 2, 12, size=2)
    x = np.abs(rng.standard_normal((rng.integers(1, 3), c, h, w_))) * (rng.random((1, c, h, w_)) < act_density)
    w = rng.standard_normal((k, c // groups, r, s)) * (rng.random((k, c // groups, r, s)) < weight_density)
    return Layer(name=f"conv{seed}", op="conv2d", input=x, weight=w, stride=tuple(rng.integers(1, 3, size=2)),
                 padding=tuple(rng.integers(0, 3, size=2)), dilation=tuple(rng.integers(1, 3, size=2)),
                 groups=groups)


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("seed", range(8))
def test_the_fast_walk_equals_the_walk_of_every_tap(setting, seed):
    name, overrides = SETTINGS[setting]
    arch = load_arch(name, overrides)
    make = v1_machine if name == "eyeriss-v1" else v2_machine
    machine = make(arch, arch.dataflow.config)
    problem, _tiles, mapping, args = walk(random_layer(seed), arch, machine)
    expected_jobs, expected_counters = jit.walk_jobs(*args)
    jobs, counters = walk_layer(problem, machine, mapping)
    np.testing.assert_array_equal(jobs, expected_jobs)
    np.testing.assert_array_equal(counters, expected_counters)


def numpy_taps(x, c0, kernel_w, stride_w, pad_w, dil_w, q_count):
    """window_taps by numpy: the nonzero taps of every window, window by window."""
    n_img, groups, cg, height, width = x.shape
    padded = np.zeros((n_img, groups, cg, height, width + 2 * pad_w + q_count * stride_w + kernel_w * dil_w))
    padded[..., pad_w:pad_w + width] = x
    pointers, taps = [0], []
    for n in range(n_img):
        for g in range(groups):
            for h in range(height):
                for cb in range(0, cg, c0):
                    for q in range(q_count):
                        columns = q * stride_w + np.arange(kernel_w) * dil_w
                        window = padded[n, g, cb:cb + c0, h][:, columns].ravel()
                        taps.extend(np.flatnonzero(window))
                        pointers.append(len(taps))
    return np.array(pointers), np.array(taps, dtype=np.int16)


@pytest.mark.parametrize("seed", range(4))
def test_window_taps_and_nonzero_tap_counts_equal_numpy(seed):
    rng = np.random.default_rng(seed)
    x = np.abs(rng.standard_normal((2, 2, 5, 4, 9))) * (rng.random((2, 2, 5, 4, 9)) < 0.4)
    stride, pad, dil, s = int(rng.integers(1, 3)), int(rng.integers(0, 3)), int(rng.integers(1, 3)), 3
    q_count = (9 + 2 * pad - dil * (s - 1) - 1) // stride + 1
    for kernel in both(taps_jit.window_taps):
        pointers, taps = kernel(x, 2, s, stride, pad, dil, q_count)
        expected_pointers, expected_taps = numpy_taps(x, 2, s, stride, pad, dil, q_count)
        np.testing.assert_array_equal(pointers, expected_pointers)
        np.testing.assert_array_equal(taps, expected_taps)
    r, p_count = 2, (4 + 2 * pad - dil * (2 - 1) - 1) // stride + 1
    padded = np.pad(x != 0, ((0, 0), (0, 0), (0, 0), (pad, pad + 9), (pad, pad + 9)))
    expected = np.zeros((2, 5, r, s), dtype=np.int64)
    for ri in range(r):
        for si in range(s):
            rows = np.arange(p_count) * stride + ri * dil
            cols = np.arange(q_count) * stride + si * dil
            expected[:, :, ri, si] = padded[:, :, :, rows][..., cols].sum(axis=(0, 3, 4))
    for kernel in both(taps_jit.nonzero_tap_counts):
        counts = kernel(x, r, s, stride, stride, pad, pad, dil, dil, p_count, q_count)
        np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("setting", ["v2", "v2_dense", "v2_uncompressed_iacts_csc_weights"])
def test_the_fast_walk_as_plain_python(setting):
    name, overrides = SETTINGS[setting]
    arch = load_arch(name, overrides)
    machine = v2_machine(arch, arch.dataflow.config)
    problem, tiles, mapping, _ = walk(random_layer(5), arch, machine)
    jobs = mapping.jobs
    pointers, taps = taps_jit.window_taps(problem.x, tiles.c0, problem.s, problem.stride[1], problem.padding[1],
                                          problem.dilation[1], problem.q)
    args = (tiles.col_entries, tiles.col_nonzeros, tiles.block_group, tiles.block_count, mapping.items_cb,
            mapping.items_r, jobs.n, jobs.block, jobs.slice, jobs.p, jobs.q0, jobs.q1, jobs.slot, jobs.carry,
            np.where(jobs.loads, machine.fill, 0).astype(np.int64), mapping.slots, mapping.chain_length, tiles.c0,
            problem.groups, problem.x.shape[3], problem.q, problem.stride[0], problem.padding[0],
            problem.dilation[0], mapping.csc_iacts, pointers, taps, machine.simd, machine.fetch_buffer,
            mapping.psum_buffer, machine.link_values)
    compiled, plain = (kernel(*args) for kernel in both(walk_jit.walk_windows))
    np.testing.assert_array_equal(compiled[0], plain[0])
    np.testing.assert_array_equal(compiled[1], plain[1])
