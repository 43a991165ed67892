"""Eyeriss' numba functions, hand-computed: the PE's two stages (accelsim.dataflows.eyeriss.jit.pipeline_step), one
PE walking a CSC column per nonzero iact (zero iacts skipped, an empty weight column, SIMD padding), the psum chain,
and the output through the jobs; each also against its .py_func (and, under NUMBA_DISABLE_JIT=1, as plain Python).
Every expected number is worked out in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.arch_configs import load_arch
from accelsim.dataflows.eyeriss import jit
from accelsim.dataflows.eyeriss.dataflow import simulate_on
from accelsim.dataflows.eyeriss.machine import v2_machine
from accelsim.dataflows.eyeriss.mapping import plan_mapping
from accelsim.dataflows.eyeriss.problem import problem_of
from accelsim.dataflows.eyeriss.tiles import column_csc, plan_tiles
from accelsim.reference import effectual_macs, reference_output
from accelsim.workload import Layer


def both(kernel):
    """The kernel jitted and as plain Python (under NUMBA_DISABLE_JIT=1 it has no .py_func: twice itself)."""
    return [kernel, getattr(kernel, "py_func", kernel)]


def run_pipeline(step, words, buffer_slots=1):
    """Feed iacts with weight-stage cycles `words` through step(); (finish, waits, starts)."""
    departed = finished = 0
    starts, waits = [], 0
    for count, b in enumerate(words):
        oldest = starts[count - buffer_slots] if count >= buffer_slots else -1
        departed, finished, start, waited = step(departed, finished, oldest, 0, b)
        starts.append(start)
        waits += waited
    return finished, waits, starts


@pytest.mark.parametrize("step", both(jit.pipeline_step))
def test_an_empty_column_hides_behind_a_longer_one(step):
    # b = 2, 0, 1 (columns of 3, 0 and 2 weights at SIMD 2). Iact 1 is fetched in cycle 1, its MACs take cycles
    # 1-2 (start 1, finish 3); iact 2 is fetched in cycle 2 and drops (no weight) when the weight stage frees at 3;
    # iact 3, fetched at 3, starts at 3 and finishes at 4. Only the very first fetch is exposed: 1 wait.
    assert run_pipeline(step, [2, 0, 1]) == (4, 1, [1, 3, 3])


@pytest.mark.parametrize("step", both(jit.pipeline_step))
def test_an_empty_column_costs_a_cycle_between_short_ones(step):
    # b = 1, 0, 1: iact 1 fetched at 1, MACs 1-2; iact 2 fetched at 2, dropped at 2; iact 3 fetched at 3 (one fetch a
    # cycle) while the weight stage has been free since 2: it waits 1 cycle. Finish 4 instead of 3 without iact 2.
    assert run_pipeline(step, [1, 0, 1]) == (4, 2, [1, 2, 3])
    assert run_pipeline(step, [1, 1]) == (3, 1, [1, 2])


@pytest.mark.parametrize("step", both(jit.pipeline_step))
def test_the_fetch_buffer_bounds_how_far_the_iact_stage_runs_ahead(step):
    # b = 4, 0, 0, 0 with one buffer slot: iact 2 is fetched at 2 and waits for the weight stage (free at 5); iact
    # 3 cannot leave the fetch stage before iact 2 starts (5); iact 4 is then fetched at 6 and starts at 6, a
    # cycle the weight stage waits. Finish 6, 2 waits (the first fetch and this one).
    assert run_pipeline(step, [4, 0, 0, 0]) == (6, 2, [1, 5, 5, 6])
    # Two slots: iact 3 is fetched at 3 (slot of iact 1, started at 1) and iact 4 at 5 (slot of iact 2): all start
    # at 5, nothing waits after the first fetch.
    assert run_pipeline(step, [4, 0, 0, 0], buffer_slots=2) == (5, 1, [1, 5, 5, 5])
    # With the gate (a full psum buffer) the weight stage cannot start before 10.
    assert step(0, 0, -1, 10, 3) == (1, 13, 10, 0)


def one_pe_layer() -> Layer:
    # 1 x 1 conv on a 1 x 1 plane: x = [1, 0, 2, 3] over 4 input channels; 3 output channels.
    x = np.array([1.0, 0, 2, 3]).reshape(1, 4, 1, 1)
    w = np.zeros((3, 4, 1, 1))
    w[:, 0, 0, 0] = [1, 2, 3]  # column 0: three weights
    w[:, 1, 0, 0] = [7, 0, 0]  # column 1: its iact is zero, never read
    # column 2 stays empty: its iact (2) is read and dropped
    w[:, 3, 0, 0] = [4, 0, 5]  # column 3: two weights
    return Layer(name="one_pe", op="conv2d", input=x, weight=w)


def walk(layer: Layer, arch, machine=None):
    machine = machine or v2_machine(arch, arch.dataflow.config)
    problem = problem_of(layer, "test")
    tiles = plan_tiles(problem, machine)
    mapping = plan_mapping(problem, machine, tiles)
    jobs = mapping.jobs
    (uh, uw), (ph, pw), (dh, dw) = problem.stride, problem.padding, problem.dilation
    args = (problem.x, tiles.col_entries, tiles.col_nonzeros, tiles.block_group, tiles.block_count,
            mapping.items_cb, mapping.items_r, jobs.n, jobs.block, jobs.slice, jobs.p, jobs.q0, jobs.q1, jobs.slot,
            jobs.carry, np.where(jobs.loads, machine.fill, 0).astype(np.int64), mapping.slots,
            mapping.chain_length, tiles.c0, uh, uw, ph, pw, dh, dw, mapping.csc_iacts, machine.simd,
            machine.fetch_buffer, mapping.psum_buffer, machine.link_values)
    return problem, tiles, mapping, args


def pe_arch(simd: int):
    return load_arch("eyeriss-v2-pe", [f"pe_array.macs_per_pe={simd}", f"dataflow.simd_width={simd}"])


@pytest.mark.parametrize("kernel", both(jit.walk_jobs))
def test_one_pe_walks_the_nonzero_iacts_of_its_csc_columns(kernel):
    _, tiles, mapping, args = walk(one_pe_layer(), pe_arch(2))
    assert (tiles.c0, tiles.m0, mapping.chain_length, len(mapping.jobs)) == (4, 3, 1, 1)
    jobs, counters = kernel(*args)
    # SIMD 2: columns 0, 2, 3 are read (b = 2, 0, 1), column 1's iact is zero: MACs done at 4 (first test above).
    # The 3 psums leave over the 40-bit link, 2 a cycle: 2 cycles -> 6; the 5 further pipeline stages: 11.
    assert jobs[0, jit.JOB_END] == 11 and jobs[0, jit.JOB_TIME] == 11
    assert (jobs[0, jit.JOB_BUSY], jobs[0, jit.JOB_IACT_WAIT], jobs[0, jit.JOB_PES]) == (3, 1, 1)
    assert counters[jit.IACT_READS] == 3  # the zero iact is never read
    assert counters[jit.WEIGHT_WORDS] == 3
    assert counters[jit.MACS] == 5 == counters[jit.EFFECTUAL]  # 3 + 0 + 2 MACs in 3 SIMD-2 words: 6 lanes, 1 padded
    assert counters[jit.PSUM_SENT] == 3


@pytest.mark.parametrize("kernel", both(jit.walk_jobs))
def test_one_pe_without_simd(kernel):
    _, _, _, args = walk(one_pe_layer(), pe_arch(1))
    jobs, counters = kernel(*args)
    # b = 3, 0, 2: MACs 1-3 (finish 4), the empty column dropped at 4, the last iact's 2 MACs finish at 6 (its fetch
    # was buffered). Psums out: 6 + 2 = 8, fill 5: 13.
    assert jobs[0, jit.JOB_END] == 13
    assert (jobs[0, jit.JOB_BUSY], jobs[0, jit.JOB_IACT_WAIT]) == (5, 1)
    assert counters[jit.WEIGHT_WORDS] == counters[jit.MACS] == 5


def test_the_psum_chain_waits_for_the_slower_pe_above():
    # Two reduction items (input channel blocks of 16 on a 1 x 1 plane, two output positions) chained on one column:
    # PE 0 holds channels 0-15, PE 1 channels 16-31. Position 0: PE 0 reads 3 iacts (1 weight each: done at 4),
    # PE 1 one iact (done at 2). Psums (1 output channel: 1 transfer cycle) leave PE 0 at 5; PE 1 sends them on
    # one cycle after they arrive: 6. Position 1: PE 0 reads one more iact (done at 5; its psum scratch pad holds
    # 32 positions of one psum, so nothing gates it) and sends at max(5 + 1, 5 + 1) = 6; PE 1, with no iact,
    # forwards at max(2 + 1, 6 + 1, 6 + 1) = 7. Fill 5: 12.
    x = np.zeros((1, 32, 1, 2))
    x[0, [0, 1, 2], 0, 0] = 1
    x[0, 16, 0, 0] = 1
    x[0, 3, 0, 1] = 1
    w = np.ones((1, 32, 1, 1))
    layer = Layer(name="chain", op="conv2d", input=x, weight=w)
    arch = load_arch("eyeriss-v2", ["pe_array.rows=2", "pe_array.cols=1", "dataflow.cluster_rows=1",
                                    "dataflow.cluster_cols=1"])  # one column of two PEs: one chain slot
    _, _, mapping, args = walk(layer, arch)
    assert mapping.chain_length == 2 and len(mapping.jobs) == 1
    jobs, _ = jit.walk_jobs(*args)
    assert jobs[0, jit.JOB_END] == 12
    assert jobs[0, jit.JOB_BUSY] == 5  # 4 + 1 weight-stage cycles


def test_the_output_through_the_jobs_equals_numpy():
    rng = np.random.default_rng(3)
    x = np.abs(rng.standard_normal((1, 6, 7, 7))) * (rng.random((1, 6, 7, 7)) < 0.5)
    w = rng.standard_normal((5, 6, 3, 3)) * (rng.random((5, 6, 3, 3)) < 0.5)
    layer = Layer(name="conv", op="conv2d", input=x, weight=w, padding=(1, 1), stride=(2, 1))
    arch = load_arch("eyeriss-v2")
    problem, tiles, mapping, args = walk(layer, arch)
    jobs = mapping.jobs
    pointers, channels, values = column_csc(problem, tiles)
    out = np.zeros((problem.n, problem.groups, problem.mg, problem.p, problem.q))
    for kernel in both(jit.output_through_jobs):
        out[:] = 0
        kernel(problem.x, pointers, channels, values, tiles.block_group, tiles.block_start, mapping.items_cb,
               mapping.items_r, jobs.n, jobs.block, jobs.slice, jobs.p, jobs.q0, jobs.q1, mapping.chain_length,
               tiles.c0, problem.r, problem.s, 2, 1, 1, 1, 1, 1, out)
        np.testing.assert_allclose(out.reshape(1, 5, *out.shape[3:]), reference_output(layer))
    _, counters = jit.walk_jobs(*args)
    assert counters[jit.EFFECTUAL] == effectual_macs(layer)
    assert np.array_equal(both(jit.walk_jobs)[0](*args)[0], both(jit.walk_jobs)[1](*args)[0])


def test_dense_mode_reads_every_tap_and_counts_every_mac():
    # Uncompressed iacts and weights: every window tap (padding included) is read and meets all M0 weights, so the
    # MACs issued are the layer's dense MACs and each tap costs ceil(M0 / SIMD) weight-stage cycles.
    rng = np.random.default_rng(4)
    x = np.abs(rng.standard_normal((1, 3, 6, 6))) * (rng.random((1, 3, 6, 6)) < 0.5)
    w = rng.standard_normal((4, 3, 3, 3))
    layer = Layer(name="dense", op="conv2d", input=x, weight=w, padding=(1, 1))
    arch = load_arch("eyeriss-v2", ["dataflow.iact_format=uncompressed", "dataflow.weight_format=uncompressed"])
    _, _, _, args = walk(layer, arch)
    _, counters = jit.walk_jobs(*args)
    assert counters[jit.MACS] == layer.macs
    assert counters[jit.WEIGHT_WORDS] == counters[jit.IACT_READS] * 2  # M0 = 4 at SIMD 2
    assert counters[jit.EFFECTUAL] == effectual_macs(layer)
    result = simulate_on(v2_machine(arch, arch.dataflow.config), layer, arch, True)
    np.testing.assert_allclose(result.output, reference_output(layer))
