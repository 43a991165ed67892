"""SparTen's kernels beside the timing walk (accelsim.dataflows.sparten.outputs_jit) against numpy and plain Python,
and the shortcuts of the speed work of issue 20 against what they replace: the dense twin walked as one CU per pass
against the walk of every CU, the storage bits from counts against the bitmask encoder."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.arch_configs import load_arch
from accelsim.dataflows.sparten import outputs_jit
from accelsim.dataflows.sparten.dataflow import plan_layer, walk_layer
from accelsim.formats import bitmask
from accelsim.reference import effectual_macs, reference_output
from accelsim.workload import Layer

SMALL = ["pe_array.rows=2", "pe_array.cols=4", "memory.input_buffer.instances=8", "memory.filter_buffer.instances=8"]


def sparse(rng, shape, density):
    return rng.standard_normal(shape) * (rng.random(shape) < density)


def conv(seed, c=10, k=6, hw=7, rs=3, **geometry):
    rng = np.random.default_rng(seed)
    groups = geometry.get("groups", 1)
    return Layer(name="conv", op="conv2d", input=np.abs(sparse(rng, (2, c, hw, hw), 0.5)).astype(np.float32),
                 weight=sparse(rng, (k, c // groups, rs, rs), 0.4).astype(np.float32), **geometry)


LAYERS = {
    "padded_stride2": lambda: conv(0, padding=1, stride=2),
    "grouped_dilated": lambda: conv(1, c=8, k=8, groups=2, padding=2, dilation=2),
    "fc": lambda: Layer(name="fc", op="linear", input=sparse(np.random.default_rng(2), (3, 150), 0.5),
                        weight=sparse(np.random.default_rng(3), (7, 150), 0.3)),
}


def test_pack_masks_against_numpy():
    rng = np.random.default_rng(0)
    dense = sparse(rng, (40, 100), 0.3)
    dense[0] = 1.0  # every position
    mask, nnz = outputs_jit.pack_masks(dense, 2)
    bits = np.array([[(int(row[i // 64]) >> (i % 64)) & 1 for i in range(128)] for row in mask], dtype=bool)
    np.testing.assert_array_equal(bits[:, :100], dense != 0)
    assert not bits[:, 100:].any()
    np.testing.assert_array_equal(nnz, np.count_nonzero(dense, axis=1))


def joins_in_python(problem) -> np.ndarray:
    """The outputs as the docstring of outputs_jit orders the sums: each chunk join's products, lowest position
    first, from zero; then the joins with a match, chunk by chunk, from zero. Plain Python floats (IEEE doubles)."""
    f, x = problem.filters, problem.inputs
    out = np.zeros((f.nnz.shape[0], problem.positions))
    for g in range(problem.groups):
        for k in range(g * problem.filters_per_group, (g + 1) * problem.filters_per_group):
            for m in range(problem.positions):
                output = 0.0
                for j, chunk in enumerate(problem.window[g, m]):
                    if chunk < 0:
                        continue
                    both = np.flatnonzero((f.dense[k, j] != 0) & (x.dense[chunk] != 0))
                    if both.size:
                        total = 0.0
                        for i in both:
                            total += float(f.dense[k, j, i]) * float(x.dense[chunk, i])
                        output += total
                out[k, m] = output
    return out


@pytest.mark.parametrize("chunking", ["channel", "window"])
@pytest.mark.parametrize("name", LAYERS)
def test_outputs_in_the_cus_order(name, chunking):
    layer = LAYERS[name]()
    arch = load_arch("sparten", [*SMALL, "dataflow.chunk_size=16", f"dataflow.chunking={chunking}"])
    problem = plan_layer(layer, arch)[0]
    f, x = problem.filters, problem.inputs
    out = np.zeros((f.nnz.shape[0], problem.positions))
    operands = (f.mask, f.dense, x.mask, x.dense, problem.window, problem.filters_per_group)
    split = out.shape[0] // 3  # two calls over two filter ranges, as the threads share them
    matches = outputs_jit.window_outputs(*operands, split, out.shape[0], out) + \
        outputs_jit.window_outputs(*operands, 0, split, out)
    np.testing.assert_array_equal(out, joins_in_python(problem))  # bit for bit: the same sums in the same order
    reference = reference_output(layer)
    per_row = reference.reshape(-1, out.shape[0]) if layer.op == "linear" else \
        np.moveaxis(reference, 1, 0).reshape(out.shape[0], -1).T
    np.testing.assert_allclose(out.T, per_row, rtol=1e-9, atol=1e-12)
    assert matches == effectual_macs(layer)
    assert outputs_jit.effectual_products(f.mask, x.mask, problem.window, problem.filters_per_group) == matches


@pytest.mark.parametrize("overrides", [
    (), ("dataflow.input_buffer_depth=1", "dataflow.broadcast_bits_per_cycle=16"),
    ("dataflow.chunking=window", "dataflow.chunk_size=32", "dataflow.pipeline_depth=1"),
    ("memory.filter_buffer.size_bytes=256", "dataflow.empty_join_cycles=3")])
@pytest.mark.parametrize("name", LAYERS)
def test_the_dense_twin_walked_as_one_cu_equals_the_walk_of_every_cu(name, overrides):
    layer = LAYERS[name]()
    arch = load_arch("sparten-dense", [*SMALL, *overrides])
    problem, assignment, plan = plan_layer(layer, arch)
    one = walk_layer(problem, assignment, plan, arch, one_lane=True)
    every = walk_layer(problem, assignment, plan, arch, one_lane=False)
    for field in ("cluster_cycles", "slots", "counts", "balance"):
        np.testing.assert_array_equal(getattr(one, field), getattr(every, field))


@pytest.mark.parametrize(("shape", "chunk_size", "density"), [((7, 300), 128, 0.3), ((5, 64), 64, 1.0),
                                                              ((3, 10), 16, 0.0), ((2, 3, 50), 100, 0.5)])
def test_bitmask_bits_from_counts_equal_the_encoder(shape, chunk_size, density):
    array = sparse(np.random.default_rng(4), shape, density)
    encoded = bitmask.encode(array, value_bits=16, chunk_size=chunk_size)
    assert bitmask.chunked_bits(array.size, int(np.count_nonzero(array)), value_bits=16, chunk_size=chunk_size) == \
        (encoded.total_bits, encoded.pointer_bits)
