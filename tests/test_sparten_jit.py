"""SparTen hand-computed cases: every expected number below is worked out in the comments, not read from our output.

Tiny arch: one cluster of two CUs (unless said), 4-position chunks, pipeline depth 1, a 1,024-bit bus so that every
broadcast and filter load of these layers moves in one cycle. Timeline rules (accelsim.dataflows.sparten.jit): a
pass first loads its filters (ceil(bits / 1024) cycles); broadcast b may begin when the bus is free and every CU has
started chunk b - depth; it arrives one bus cycle later; a CU starts a chunk at max(its finish, the arrival) and
spends max(matches, empty_join_cycles) cycles on it. Filter chunk bits = 4 mask bits + 16 per nonzero + a pointer of
ceil(log2(weight positions)) bits; input chunk bits = 4 + 16 per nonzero.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from accelsim.arch_configs import load_arch
from accelsim.dataflows.sparten import SparTen, outputs_jit
from accelsim.dataflows.sparten import dataflow as sparten_dataflow
from accelsim.dataflows.sparten import jit as kernel
from accelsim.dataflows.sparten.dataflow import layer_outputs, plan_layer, walk_layer
from accelsim.workload import Layer

SLOTS = ("BUSY", "EMPTY_JOIN", "BROADCAST_HELD", "BROADCAST_BUS", "IMBALANCE", "PIPELINE", "FILTER_LOAD", "IDLE_CU")


def tiny_arch(*extra: str, clusters: int = 1, cus: int = 2, depth: int = 2, balancing: str = "none"):
    pes = clusters * cus
    return load_arch("sparten", [
        f"pe_array.rows={clusters}", f"pe_array.cols={cus}", f"memory.input_buffer.instances={pes}",
        f"memory.filter_buffer.instances={pes}", "dataflow.chunk_size=4", f"dataflow.input_buffer_depth={depth}",
        "dataflow.pipeline_depth=1", "dataflow.broadcast_bits_per_cycle=1024", f"dataflow.balancing={balancing}",
        *extra])


def fc(x, weights) -> Layer:
    return Layer(name="fc", op="linear", input=np.array([x], dtype=float), weight=np.array(weights, dtype=float))


def walk(layer: Layer, arch) -> SimpleNamespace:
    """The walk's results, and `out` (filters, M): the outputs summed through the chunk joins."""
    problem, assignment, plan = plan_layer(layer, arch)
    result = walk_layer(problem, assignment, plan, arch)
    return SimpleNamespace(**vars(result), out=layer_outputs(layer, arch.dataflow.config, problem))


def slots(result) -> dict[str, int]:
    return {name: int(result.slots[getattr(kernel, name)]) for name in SLOTS if result.slots[getattr(kernel, name)]}


# x chunk 0 holds positions {0, 1, 3}, chunk 1 nothing. Filter 0: chunk 0 {0, 1, 2}, chunk 1 {0}; filter 1: {3}, {3}.
MATCHES_X = [1, 2, 0, 4, 0, 0, 0, 0]
MATCHES_W = [[1, 1, 1, 0, 1, 0, 0, 0], [0, 0, 0, 5, 0, 0, 0, 6]]


def test_matches_and_an_empty_join():
    # Load: pointer 4 bits (16 weight positions); 56 + 24 + 24 + 24 = 128 bits: cycle 0, the pass starts at 1.
    # Chunk 0 (52 bits) arrives at 2. CU0: {0,1,2} & {0,1,3} = {0,1}, 2 matches (1*1 + 2*1 = 3): 2..4.
    #   CU1: {3} & {0,1,3} = {3}, 1 match (4*5 = 20): 2..3.
    # Chunk 1 (4 bits, an all-zero chunk: still broadcast) arrives at 3. Both joins are empty, 1 cycle each:
    #   CU0 4..5, CU1 3..4. The pass ends at 5; CU1 waited 1 for CU0.
    result = walk(fc(MATCHES_X, MATCHES_W), tiny_arch())
    assert result.cluster_cycles.tolist() == [5]
    assert slots(result) == {"BUSY": 3, "EMPTY_JOIN": 2, "BROADCAST_BUS": 2, "IMBALANCE": 1, "FILTER_LOAD": 2}
    assert result.counts[kernel.JOINS] == 4 and result.counts[kernel.BROADCASTS] == 2
    assert result.counts[kernel.BROADCAST_BITS] == 52 + 4 and result.counts[kernel.LOAD_BITS] == 128
    np.testing.assert_allclose(result.out[:, 0], [3, 20])


def test_an_empty_join_costing_two_cycles():
    # As above with every chunk costing at least 2 cycles: chunk 0 takes 2 on both CUs (2..4), chunk 1 arrives at 3
    # and takes 2 more (4..6). Empty cycles: CU1's one-match chunk 1, and two per empty join: 1 + 2 + 2.
    result = walk(fc(MATCHES_X, MATCHES_W), tiny_arch("dataflow.empty_join_cycles=2"))
    assert result.cluster_cycles.tolist() == [6]
    assert slots(result) == {"BUSY": 3, "EMPTY_JOIN": 5, "BROADCAST_BUS": 2, "FILTER_LOAD": 2}


def test_the_pipeline_drains_at_the_end_of_a_pass():
    result = walk(fc(MATCHES_X, MATCHES_W), tiny_arch("dataflow.pipeline_depth=3"))
    assert result.cluster_cycles.tolist() == [5 + 2]
    assert slots(result)["PIPELINE"] == 2 * 2


# Inputs all ones, four chunks; filter 0's nonzeros per chunk 4, 1, 1, 1, filter 1's 1, 1, 1, 4.
SKEWED_W = [[1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]]


@pytest.mark.parametrize(("depth", "cycles"), [(1, 12), (2, 11), (4, 9)])
def test_a_full_buffer_holds_the_broadcast_back(depth, cycles):
    # Load 296 bits (pointer 5 bits): the pass starts at 1; each chunk is 68 bits, one bus cycle.
    # Depth 1: b0 arrives 2: CU0 2..6, CU1 2..3. b1 may go when both started b0 (2): arrives 3: CU0 6..7, CU1 3..4.
    #   b2 waits for CU0 to start b1 (6): arrives 7: CU0 7..8, CU1 idle 4..7 (1 bus + 2 held) then 7..8.
    #   b3 (both started b2 at 7) arrives 8: CU0 8..9, CU1 8..12. 12 cycles.
    # Depth 2: b2 needs b0 started (2): arrives 4 (CU1 4..5); b3 needs b1 started: CU0 started it at 6: arrives 7,
    #   CU1 idle 5..7 (1 bus + 1 held), 7..11. 11 cycles.
    # Depth 4: nothing waits: arrivals 2, 3, 4, 5; CU0 2..6..7..8..9, CU1 2..3..4..5, 5..9. 9 cycles.
    result = walk(fc([1] * 16, SKEWED_W), tiny_arch(depth=depth))
    assert result.cluster_cycles.tolist() == [cycles]
    if depth == 1:
        assert slots(result) == {"BUSY": 14, "BROADCAST_HELD": 2, "BROADCAST_BUS": 3, "IMBALANCE": 3,
                                 "FILTER_LOAD": 2}
    np.testing.assert_allclose(result.out[:, 0], [7, 7])


# One chunk; x = 1 2 3 4. Filters: 1 nonzero (out 1), 4 (1+4+9+16 = 30), 1 (2*5 = 10), 4 (2*(1+2+3+4) = 20).
GBS_W = [[1, 0, 0, 0], [1, 2, 3, 4], [0, 5, 0, 0], [2, 2, 2, 2]]


@pytest.mark.parametrize(("balancing", "cycles", "imbalance"), [("none", 12, 6), ("gb-s", 9, 0)])
def test_gb_s_groups_filters_of_one_density(balancing, cycles, imbalance):
    # none: groups {f0, f1}, {f2, f3}. Each pass: 1 load cycle, the chunk arrives a cycle later, the sparse CU takes
    #   1 cycle and the dense one 4: passes 0..6 and 6..12, 3 idle CU-cycles each.
    # gb-s: filters by nonzeros, densest first: {f1, f3} (4 cycles each, 0..6), {f0, f2} (1 each, 6..9).
    layer = fc([1, 2, 3, 4], GBS_W)
    result = walk(layer, tiny_arch(balancing=balancing))
    assert result.cluster_cycles.tolist() == [cycles]
    assert result.slots[kernel.IMBALANCE] == imbalance
    np.testing.assert_allclose(result.out[:, 0], [1, 30, 10, 20])  # in true channel order: permutation undone
    simulated = SparTen().simulate(layer, tiny_arch(balancing=balancing), compute_output=True)
    np.testing.assert_allclose(simulated.output, [[1, 30, 10, 20]])


@pytest.mark.parametrize(("balancing", "cycles"), [("gb-s", 10), ("gb-h", 7)])
def test_gb_h_deals_chunks_to_the_least_loaded_cu(balancing, cycles):
    # Filter 0: 4 + 4 nonzeros (sum 8), filter 1: 1 + 1 (2*1 + 3*1 = 5); inputs all ones.
    # gb-s: CU0 holds f0 (4 + 4 cycles), CU1 f1: chunk 0 arrives 2, chunk 1 at 3; CU0 2..6..10.
    # gb-h: chunk 0: f0 (densest) to CU0, f1 to CU1 (loads 4, 1); chunk 1: f0 to the least loaded CU1, f1 to CU0
    #   (loads 5, 5): CU0 2..6 (f0) 6..7 (f1), CU1 2..3 (f1) 3..7 (f0). The partial sums go to their filters.
    layer = fc([1] * 8, [[1] * 8, [2, 0, 0, 0, 0, 0, 0, 3]])
    arch = tiny_arch(balancing=balancing)
    result = walk(layer, arch)
    assert result.cluster_cycles.tolist() == [cycles]
    np.testing.assert_allclose(result.out[:, 0], [8, 5])
    actions = SparTen().simulate(layer, arch).actions
    assert actions[("permute_unit", "transfer")] == (4 if balancing == "gb-h" else 0)


def test_window_chunks_in_the_padding_are_not_broadcast():
    # 3 x 3 input, 3 x 3 kernel, padding 1, one channel: 9 outputs x 9 taps = 81 window chunks. In the plane:
    # corners 2 x 2 = 4 taps, edges 2 x 3 = 6, centre 9: 4*4 + 4*6 + 9 = 49. The dense twin multiplies all 81.
    layer = Layer(name="pad", op="conv2d", input=np.ones((1, 1, 3, 3)), weight=np.ones((1, 1, 3, 3)), padding=(1, 1))
    sparse = SparTen().simulate(layer, tiny_arch(), compute_output=True)
    dense = SparTen().simulate(layer, tiny_arch("dataflow.sparsity=none", "dataflow.balancing=none"))
    assert sparse.metrics["broadcasts"] == 49 and dense.metrics["broadcasts"] == 81
    assert sparse.macs_issued == 49 and dense.macs_issued == layer.macs == 81
    np.testing.assert_allclose(sparse.output[0, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


def test_the_slowest_cluster_sets_the_layer():
    # Two clusters of one CU, one filter of 4 ones, two batch rows: row 0 dense (4 matches), row 1 one nonzero.
    # Both rows are estimated alike (from the filter), so cluster 0 takes row 0 and cluster 1 row 1: load 1, arrival
    # 2, then 4 and 1 cycles: clusters end at 6 and 3. The layer takes 6; cluster 1 idles 3 (load_imbalance).
    layer = Layer(name="rows", op="linear", input=np.array([[1.0, 1, 1, 1], [0, 0, 2, 0]]), weight=np.ones((1, 4)))
    arch = tiny_arch(clusters=2, cus=1)
    result = walk(layer, arch)
    assert result.cluster_cycles.tolist() == [6, 3]
    simulated = SparTen().simulate(layer, arch, compute_output=True)
    assert simulated.cycles == 6
    # 12 cluster-CU slots over the 6 cycles: 5 busy, 2 filter load, 2 on the bus, 3 of the idle cluster: its share
    # is 3/12 of 6 cycles = 1.5, reported as 2 (round half to even), the load and bus shares 1 each.
    assert simulated.stall_cycles["load_imbalance"] == 2
    assert simulated.stall_cycles["filter_load"] == simulated.stall_cycles["broadcast_bandwidth"] == 1
    np.testing.assert_allclose(simulated.output, [[4], [2]])


def test_a_filter_too_big_for_its_buffer_runs_in_slices():
    # 16 dense weights in 4 chunks of 72 bits (4 mask + 64 values + 4 pointer). An 18-byte buffer holds 144 bits:
    # one slice (288) does not fit, two (144 each) do: two passes, each output's partial sum out and back once.
    layer = fc(list(range(1, 17)), [[1] * 16])
    arch = tiny_arch("memory.filter_buffer.kind=register_file", "memory.filter_buffer.size_bytes=18")
    result = SparTen().simulate(layer, arch, compute_output=True)
    assert result.metrics["reduction_slices"] == 2 and result.metrics["passes"] == 2
    np.testing.assert_allclose(result.output, [[136]])
    with pytest.raises(ValueError, match=r"filter_buffer\.size_bytes"):
        SparTen().simulate(layer, tiny_arch("memory.filter_buffer.kind=register_file",
                                            "memory.filter_buffer.size_bytes=8"))


def bits_of(words: np.ndarray) -> np.ndarray:
    """Position i of a chunk is bit i % 64 of word i // 64."""
    return np.array([(int(word) >> i) & 1 for word in words for i in range(64)], dtype=bool)


def test_popcount_lowest_bit_and_join_against_numpy():
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2**62, size=(50, 2), dtype=np.int64).astype(np.uint64) * np.uint64(3)
    words[0, 0] = np.uint64(2**64 - 1)  # every bit, the top one included
    words[1, 0] = np.uint64(2**63)  # the top bit alone
    for a, b in zip(words[:25], words[25:], strict=True):
        bits_a, bits_b = bits_of(a), bits_of(b)
        assert kernel.popcount(a[0]) == bits_a[:64].sum()
        assert outputs_jit.lowest_bit(a[0]) == np.flatnonzero(bits_a[:64])[0]
        assert kernel.join_matches(a, 0, b, 0, 2) == (bits_a & bits_b).sum()


def test_pure_python_walk_agrees_with_the_jitted(monkeypatch):
    # The kernels call each other through the module's globals: patching the module runs the whole walk in Python
    # (`.py_func`; under NUMBA_DISABLE_JIT=1 they are plain functions already). popcount's compiled form is an LLVM
    # intrinsic, which only compiled code can call: its Python twin stands in.
    rng = np.random.default_rng(3)
    conv = Layer(name="conv", op="conv2d", input=np.abs(rng.standard_normal((1, 6, 5, 5))) * (rng.random((1, 6, 5, 5))
                 < 0.5), weight=rng.standard_normal((5, 6, 3, 3)) * (rng.random((5, 6, 3, 3)) < 0.4), stride=(2, 2),
                 padding=(1, 1))
    cases = [(fc([1] * 16, SKEWED_W), tiny_arch(depth=2, balancing="gb-h")), (conv, tiny_arch(balancing="gb-s")),
             (conv, tiny_arch("dataflow.sparsity=weights")), (conv, tiny_arch("dataflow.sparsity=none"))]
    jitted = [SparTen().simulate(layer, arch, compute_output=True) for layer, arch in cases]
    for module, names in ((kernel, ("walk_clusters", "join_matches")),
                          (outputs_jit, ("pack_masks", "window_outputs", "effectual_products"))):
        for name in names:
            function = getattr(module, name)
            monkeypatch.setattr(module, name, getattr(function, "py_func", function))
        monkeypatch.setattr(module, "popcount", kernel.popcount_python)
    monkeypatch.setattr(outputs_jit, "lowest_bit", outputs_jit.lowest_bit_python)
    sparten_dataflow._RECENT.clear()  # nothing the compiled run remembered
    for (layer, arch), expected in zip(cases, jitted, strict=True):
        got = SparTen().simulate(layer, arch, compute_output=True)
        assert got.cycles == expected.cycles and dict(got.stall_cycles) == dict(expected.stall_cycles)
        assert dict(got.actions) == dict(expected.actions) and dict(got.metrics) == dict(expected.metrics)
        np.testing.assert_array_equal(got.output, expected.output)
