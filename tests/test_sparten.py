"""The SparTen dataflow (and its dense twin and the one-sided design) end to end: its schedule computes every kind of
layer it maps, its counts agree with numpy re-derivations, its cycles add up and move the right way with density,
and it refuses what it cannot run. Hand-worked cycle examples of the numba walk are in tests/test_sparten_jit.py.

Expected values come from accelsim.reference, from numpy recounts written here independently of
accelsim.dataflows.sparten, or from hand calculation in the comments.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from accelsim.arch import ArchError
from accelsim.arch_configs import load_arch
from accelsim.dataflows.shared.operands import UnsupportedLayerError
from accelsim.dataflows.sparten import SparTen
from accelsim.dataflows.sparten import jit as kernel
from accelsim.dataflows.sparten.dataflow import plan_layer, walk_layer
from accelsim.reference import effectual_macs, reference_output
from accelsim.simulate import simulate
from accelsim.workload import Layer, Workload

DESIGNS = {"two_sided": "sparten", "weights": "sparten-one-sided", "none": "sparten-dense"}
_ARCHS: dict = {}


def arch(name: str = "sparten", *extra: str):
    key = (name, extra)
    if key not in _ARCHS:
        _ARCHS[key] = load_arch(name, list(extra))
    return _ARCHS[key]


def sparse(rng, shape, density, positive=False):
    values = rng.standard_normal(shape)
    return (np.abs(values) if positive else values) * (rng.random(shape) < density)


def conv(rng, n=1, c=8, k=12, h=9, w=9, r=3, s=3, *, wd=0.4, ad=0.5, **kwargs):
    g = kwargs.get("groups", 1)
    return Layer(name="conv", op="conv2d", input=sparse(rng, (n, c, h, w), ad, positive=True),
                 weight=sparse(rng, (k, c // g, r, s), wd), **kwargs)


LAYERS = {
    "3x3_p1": lambda rng: conv(rng, padding=(1, 1)),
    "3x3_s2_p1": lambda rng: conv(rng, h=11, w=10, stride=(2, 2), padding=(1, 1)),
    "1x1": lambda rng: conv(rng, c=40, k=70, r=1, s=1),
    "5x5_dilated": lambda rng: conv(rng, h=12, w=12, r=5, s=5, padding=(2, 2), dilation=(2, 1)),
    "grouped": lambda rng: conv(rng, c=8, k=12, groups=4, padding=(1, 1)),
    "depthwise": lambda rng: conv(rng, c=6, k=6, groups=6, padding=(1, 1), wd=0.8),
    "wide_c": lambda rng: conv(rng, c=150, k=40, h=5, w=5, padding=(1, 1)),
    "batch": lambda rng: conv(rng, n=3, c=5, k=33, h=6, w=7, stride=(1, 2)),
    "fc_batch": lambda rng: Layer(name="fc", op="linear", input=sparse(rng, (3, 300), 0.5, True),
                                  weight=sparse(rng, (50, 300), 0.3)),
    "matmul_static": lambda rng: Layer(name="mm", op="matmul", input=sparse(rng, (2, 3, 20), 0.5, True),
                                       weight=sparse(rng, (2, 20, 7), 0.3)),
}


def make(name: str, seed: int = 0) -> Layer:
    return LAYERS[name](np.random.default_rng(seed))


# --- the output through the schedule ----------------------------------------------------------------------------

@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("name", LAYERS)
def test_output_equals_the_reference(name, design):
    layer = make(name)
    result = SparTen().simulate(layer, arch(DESIGNS[design]), compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(layer), rtol=1e-9, atol=1e-12)
    assert result.effectual_macs == effectual_macs(layer)


@pytest.mark.parametrize("extra", [("dataflow.chunking=window",), ("dataflow.chunk_size=100",),
                                   ("dataflow.chunk_size=200", "dataflow.balancing=gb-s",
                                    "memory.input_buffer.size_bytes=1700"),
                                   ("dataflow.balancing=none", "dataflow.input_buffer_depth=1")])
@pytest.mark.parametrize("name", ["3x3_s2_p1", "wide_c", "depthwise", "fc_batch"])
def test_output_with_other_chunks_and_balancing(name, extra):
    layer = make(name, seed=1)
    result = SparTen().simulate(layer, arch("sparten", *extra), compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(layer), rtol=1e-9, atol=1e-12)
    assert result.effectual_macs == result.macs_issued == effectual_macs(layer)


def test_all_zero_activations_give_zero_output_and_only_empty_joins():
    layer = conv(np.random.default_rng(0), ad=0.0, padding=(1, 1))
    result = SparTen().simulate(layer, arch(), compute_output=True)
    assert not result.output.any() and result.macs_issued == 0
    assert result.stall_cycles["empty_join"] > 0


def test_attention_products_are_refused():
    layer = Layer(name="qk", op="matmul", input=np.ones((2, 3, 4)), weight=np.ones((2, 4, 3)),
                  weight_is_static=False)
    with pytest.raises(UnsupportedLayerError, match="SparTen cannot run a product of two activations"):
        SparTen().simulate(layer, arch())


# --- counts against numpy recounts ---------------------------------------------------------------------------------

def in_plane_weight_taps(layer: Layer) -> int:
    """Nonzero weights met by every output through taps inside the plane: the one-sided design's products. The
    layer evaluated on an all-ones input (zero padding) and the weights' nonzero mask counts them."""
    ones = Layer(name="ones", op=layer.op, input=np.ones_like(layer.input), weight=(layer.weight != 0).astype(float),
                 stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups)
    return round(float(reference_output(ones).sum()))


@pytest.mark.parametrize("name", ["3x3_p1", "3x3_s2_p1", "grouped", "batch", "fc_batch"])
def test_products_issued_by_each_design(name):
    layer = make(name)
    assert SparTen().simulate(layer, arch("sparten")).macs_issued == effectual_macs(layer)
    assert SparTen().simulate(layer, arch("sparten-one-sided")).macs_issued == in_plane_weight_taps(layer)
    assert SparTen().simulate(layer, arch("sparten-dense")).macs_issued == layer.macs


def test_broadcasts_and_joins_recounted():
    # Channel chunking, C = 8 < 128: one chunk per tap. A conv group's window chunks inside the plane are
    # broadcast once per broadcast group; every active CU joins each one.
    layer = make("3x3_s2_p1")
    d = layer.dims
    h = np.arange(d["P"])[:, None] * 2 - 1 + np.arange(3)[None, :]
    w = np.arange(d["Q"])[:, None] * 2 - 1 + np.arange(3)[None, :]
    inside = int(((h >= 0) & (h < d["H"])).sum()) * int(((w >= 0) & (w < d["W"])).sum())
    problem, assignment, plan = plan_layer(layer, arch())
    walk = walk_layer(problem, assignment, plan, arch())
    groups = math.ceil(d["K"] / 32)
    assert walk.counts[kernel.BROADCASTS] == inside * groups
    assert walk.counts[kernel.JOINS] == inside * d["K"]


def test_every_cu_cycle_is_one_slot():
    for name in ("3x3_s2_p1", "1x1", "depthwise", "fc_batch"):
        layer = make(name)
        for design in DESIGNS.values():
            problem, assignment, plan = plan_layer(layer, arch(design))
            walk = walk_layer(problem, assignment, plan, arch(design))
            assert walk.slots.sum() == (walk.cluster_cycles * 32).sum()
            result = SparTen().simulate(layer, arch(design))
            compute = int(walk.cluster_cycles.max())
            assert result.cycles == compute + result.stall_cycles["memory_bandwidth"]
            stalls = sum(result.stall_cycles.values()) - result.stall_cycles["memory_bandwidth"]
            busy = round(compute * int(walk.slots[kernel.BUSY]) / (compute * 1024))
            assert abs(stalls + busy - compute) <= len(result.stall_cycles)  # rounding of each share


def test_weight_storage_is_the_bitmask_format():
    # 1 x 1 conv, C = 40 < 128: one chunk of 128 mask bits per filter, a pointer of ceil(log2(70 * 128)) bits, 16
    # bits per nonzero. The activations fit the global buffer: DRAM reads the weights alone, 64 bits per access.
    layer = make("1x1")
    bits = 70 * 128 + 70 * math.ceil(math.log2(70 * 128)) + np.count_nonzero(layer.weight) * 16
    result = SparTen().simulate(layer, arch())
    assert result.actions[("dram", "read")] == math.ceil(bits / 64)
    dense = SparTen().simulate(layer, arch("sparten-dense"))
    assert dense.actions[("dram", "read")] == math.ceil(layer.weight.size * 16 / 64)


# --- cycles move the right way ---------------------------------------------------------------------------------------

def nested(layer: Layer, rng, keep: float, weights: bool) -> Layer:
    """A sparser copy of `layer`: a subset of its activations (and weights) kept."""
    x = layer.input * (rng.random(layer.input.shape) < keep)
    w = layer.weight * (rng.random(layer.weight.shape) < keep) if weights else layer.weight
    return Layer(name=layer.name, op=layer.op, input=x, weight=w, stride=layer.stride, padding=layer.padding,
                 dilation=layer.dilation, groups=layer.groups)


@pytest.mark.parametrize("balancing", ["none", "gb-s", "gb-h"])
@pytest.mark.parametrize("seed", range(3))
def test_denser_activations_are_never_faster(balancing, seed):
    # The filters, hence the balancing and the clusters' shares, stay; every join's work and every broadcast's bits
    # only grow with a superset of nonzeros, and the walk's times are maxima and sums of them.
    rng = np.random.default_rng(seed)
    for name in ("3x3_p1", "1x1", "fc_batch"):
        dense = make(name, seed)
        sparser = nested(dense, rng, 0.6, weights=False)
        design = arch("sparten", f"dataflow.balancing={balancing}")
        assert SparTen().simulate(sparser, design).cycles <= SparTen().simulate(dense, design).cycles


@pytest.mark.parametrize("seed", range(3))
def test_a_denser_layer_is_never_faster_on_one_cluster(seed):
    # With denser weights too, on one cluster without balancing (the greedy balancing and the clusters' shares are
    # heuristics of the weights: a denser filter can be grouped or shared out differently, so they are left out).
    rng = np.random.default_rng(seed)
    one = arch("sparten", "pe_array.rows=1", "memory.input_buffer.instances=32", "memory.filter_buffer.instances=32",
               "dataflow.balancing=none", "memory.filter_buffer.size_bytes=65536")
    for name in ("3x3_s2_p1", "wide_c", "fc_batch"):
        dense = make(name, seed)
        assert SparTen().simulate(nested(dense, rng, 0.6, True), one).cycles <= SparTen().simulate(dense, one).cycles


@pytest.mark.parametrize("balancing", ["none", "gb-s", "gb-h"])
@pytest.mark.parametrize("seed", range(4))
def test_one_sided_never_beats_two_sided(balancing, seed):
    # Same filters, same balancing and shares; a two-sided join does its matches, a one-sided one every nonzero
    # weight; a 64-channel chunk moves 128 + 16 x nonzeros bits two-sided, 1,024 one-sided (more only when over 56
    # of its 64 activations are nonzero).
    rng = np.random.default_rng(seed)
    layer = conv(rng, c=64, k=48, h=7, w=7, padding=(1, 1), wd=0.3, ad=0.5)
    two = SparTen().simulate(layer, arch("sparten", f"dataflow.balancing={balancing}"))
    one = SparTen().simulate(layer, arch("sparten-one-sided", f"dataflow.balancing={balancing}"))
    assert two.cycles <= one.cycles


def test_balancing_evens_out_filters_of_skewed_density():
    # 64 filters, half of them 8x denser, interleaved: without balancing every broadcast group mixes both kinds.
    rng = np.random.default_rng(0)
    weight = sparse(rng, (64, 64, 3, 3), 0.05)
    weight[::2] = sparse(rng, (32, 64, 3, 3), 0.4)
    layer = Layer(name="skewed", op="conv2d", input=sparse(rng, (1, 64, 14, 14), 0.5, True), weight=weight,
                  padding=(1, 1))
    results = {b: SparTen().simulate(layer, arch("sparten", f"dataflow.balancing={b}")) for b in ("none", "gb-s",
                                                                                                 "gb-h")}
    imbalance = {b: r.metrics["cu_imbalance"] for b, r in results.items()}
    assert imbalance["gb-s"] < imbalance["none"] / 4 and imbalance["gb-h"] <= imbalance["gb-s"]
    assert results["gb-s"].cycles < results["none"].cycles


def test_depthwise_under_use_is_reported():
    result = SparTen().simulate(make("depthwise"), arch())
    assert any("only 1 of 32 CUs" in note for note in result.notes)
    # One filter per conv group: 31 of 32 CUs idle in every pass (clusters done early count as load_imbalance).
    assert result.stall_cycles["fragmentation"] > 0.8 * result.cycles


# --- network runs and prices -----------------------------------------------------------------------------------------

def small_workload() -> Workload:
    rng = np.random.default_rng(5)
    layers = (conv(rng, c=16, k=64, h=14, w=14, padding=(1, 1), wd=0.3, ad=0.4),
              Layer(name="fc", op="linear", input=sparse(rng, (1, 256), 0.5, True), weight=sparse(rng, (64, 256), 0.1)))
    return Workload(layers=layers, provenance={"model": "small"})


@pytest.mark.parametrize("name", ["sparten", "sparten-one-sided", "sparten-dense"])
def test_network_runs_are_priced_against_the_dense_twin(name):
    result = simulate(small_workload(), load_arch(name))
    assert result.dense_arch == "sparten-dense"
    assert result.energy_pj > 0 and all(row.energy_pj["mac"] > 0 for row in result.rows)
    if name == "sparten-dense":
        assert result.speedup == pytest.approx(1.0)
    else:
        assert result.speedup > 1.5


def test_the_dense_config_turns_sparsity_and_balancing_off():
    config = SparTen().dense_config(arch().dataflow.config)
    assert config.sparsity == "none" and config.balancing == "none"


# --- arch errors -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "message"), [
    (["pe_array.macs_per_pe=2"], "a SparTen CU has one multiplier"),
    (["memory.input_buffer.instances=64"], "memory.input_buffer.instances is 64 but must be 1024"),
    (["memory.input_buffer.size_bytes=1024"], "holds less than dataflow.input_buffer_depth = 4 chunks"),
    (["dataflow.balancing=gbh"], "gb-h"),
    (["dataflow.chunk_sise=64"], "chunk_size"),
    (["dataflow.input_buffer_depth=0"], "input_buffer_depth"),
])
def test_bad_archs_fail_loudly(overrides, message):
    with pytest.raises(ArchError, match=message):
        load_arch("sparten", overrides)


def test_a_missing_component_is_named(tmp_path):
    text = Path(load_arch("sparten").file).read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("  mask_and:", "  mask_or:").replace("dense_twin: sparten-dense.yaml\n", ""))
    with pytest.raises(ArchError, match="missing mask_and"):
        load_arch(broken)


def test_a_filter_chunk_bigger_than_the_buffer_is_refused():
    small = arch("sparten", "memory.filter_buffer.kind=register_file", "memory.filter_buffer.size_bytes=256",
                 "dataflow.chunk_size=256", "memory.input_buffer.size_bytes=2176", "dataflow.input_buffer_depth=4")
    layer = conv(np.random.default_rng(0), c=256, k=4, h=3, w=3, wd=1.0)
    with pytest.raises(ValueError, match=r"layer 'conv': one filter chunk takes .*filter_buffer\.size_bytes"):
        SparTen().simulate(layer, small)
