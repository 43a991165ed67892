"""Eyeriss v2 and v1 (accelsim.dataflows.eyeriss): hand-computed layers end to end, the functional output of every
kind of layer through the mapping, sparsity that can only slow a layer down when it falls, v1's indifference to it,
and the errors of an arch or layer that cannot run. Expected numbers are worked out in the comments."""

from __future__ import annotations

import numpy as np
import pytest
from test_eyeriss_jit import one_pe_layer, pe_arch

from accelsim.arch.yaml_io import ArchError
from accelsim.arch_configs import load_arch
from accelsim.dataflows.eyeriss import EyerissV1, EyerissV2
from accelsim.dataflows.shared.operands import UnsupportedLayerError
from accelsim.reference import effectual_macs, reference_output
from accelsim.simulate import simulate
from accelsim.workload import Layer, Workload

ARCHS = {"eyeriss-v2": EyerissV2, "eyeriss-v1": EyerissV1, "eyeriss-v2-pe": EyerissV2}


def rng_layer(name, input_shape, weight_shape, seed=0, act_density=0.5, weight_density=0.5, op="conv2d", **kw):
    rng = np.random.default_rng(seed)
    x = np.abs(rng.standard_normal(input_shape)) * (rng.random(input_shape) < act_density)
    w = rng.standard_normal(weight_shape) * (rng.random(weight_shape) < weight_density)
    return Layer(name=name, op=op, input=x, weight=w, **kw)


LAYERS = {
    "conv": lambda: rng_layer("conv", (1, 8, 9, 9), (12, 8, 3, 3), padding=(1, 1)),
    "depthwise": lambda: rng_layer("dw", (1, 6, 9, 9), (6, 1, 3, 3), padding=(1, 1), groups=6, weight_density=0.8),
    "pointwise": lambda: rng_layer("pw", (1, 40, 5, 5), (50, 40, 1, 1), weight_density=0.3),
    "fc": lambda: rng_layer("fc", (1, 300), (70, 300), op="linear", weight_density=0.2),
    "stride2": lambda: rng_layer("s2", (2, 5, 11, 9), (7, 5, 3, 3), padding=(1, 1), stride=(2, 2)),
    "dilated_5x5": lambda: rng_layer("d5", (1, 3, 14, 14), (4, 3, 5, 5), padding=(4, 4), dilation=(2, 2)),
    "grouped": lambda: rng_layer("g2", (1, 8, 6, 6), (6, 4, 3, 3), padding=(1, 1), groups=2),
    "conv1_like": lambda: rng_layer("c1", (1, 3, 27, 27), (8, 3, 11, 11), stride=(4, 4), act_density=1.0),
    "fc_batch": lambda: rng_layer("fcb", (3, 40), (20, 40), op="linear"),
}


def test_one_pe_end_to_end():
    # The layer of tests/test_eyeriss_jit.py on one PE at SIMD 2: its job ends at 11 (MACs done at 4, psums out
    # at 6, 5 cycles of fill). Before it: the input (3 CSC pairs of 12 b + one 4-bit address = 40 b) from DRAM
    # at 25.6 GB/s = 1,024 b a cycle: 1 cycle; the weight tile (6 entries x 12 b + 5 addresses x 7 b = 107 b)
    # over the 24-bit weight port: 4.46 -> 5 cycles. Its iacts (40 b over one 24-bit port, 2 cycles) and its
    # 3 outputs (24 b to DRAM) hide under the 11. 1 + 5 + 11 = 17.
    result = EyerissV2().simulate(one_pe_layer(), pe_arch(2), compute_output=True)
    assert result.cycles == 17
    assert (result.stall_cycles["first_fetch"], result.stall_cycles["weight_load"]) == (1, 5)
    assert result.stall_cycles["noc_bandwidth"] == result.stall_cycles["memory_bandwidth"] == 0
    # Outputs: x = [1, 0, 2, 3]; 1*1 + 3*4 = 13, 1*2 = 2, 1*3 + 3*5 = 18 (column 2 is empty, column 1's iact zero).
    np.testing.assert_allclose(result.output.ravel(), [13, 2, 18])
    assert result.macs_issued == result.effectual_macs == 5
    assert result.multipliers == 2
    # Action counts: 3 iacts read (the zero never), 3 weight words (2 + 0 + 1), 5 MACs, the tile written in
    # ceil(107 / 24) = 5 weight-spad words, 3 psums sent on top of the 5 read-modify-writes.
    actions = result.actions
    assert (actions[("iact_spad", "read")], actions[("weight_spad", "read")], actions[("mac", "compute")]) == (3, 3, 5)
    assert (actions[("weight_spad", "write")], actions[("psum_spad", "read")]) == (5, 8)
    assert actions[("weight_addr_spad", "read")] == 3 and actions[("iact_addr_spad", "read")] == 1


def fc_multicast_layer() -> Layer:
    # 16 inputs (all nonzero: delivered uncompressed), 192 outputs; output m has one weight, at input m mod 16, so
    # each block of 16 outputs has one weight per column.
    w = np.zeros((192, 16))
    w[np.arange(192), np.arange(192) % 16] = 1.0
    return Layer(name="fc", op="linear", input=np.ones((1, 16)), weight=w)


def one_cluster(mode: str):
    return load_arch("eyeriss-v2", ["pe_array.rows=3", "pe_array.cols=4", "dataflow.iact_ports_per_cluster=1",
                                    "components.iact_noc.width_bits=2", f"dataflow.noc_modes.fc.iact={mode}"])


def test_a_multicast_that_exceeds_the_port_bandwidth():
    # One PE cluster (3 x 4), one 2-bit iact port. Chains of one PE (16 inputs = one channel block), 12 blocks of
    # M0 = 16 on the 12 slots: every PE needs the same 16 iacts. Each PE: 16 iacts, one weight each (1 cycle at
    # SIMD 2): MACs done at 17; 16 psums over the 40-bit link, 8 cycles: 25; fill 5: 30 compute cycles.
    # Multicast (auto): the cluster's port carries the 16 x 8 = 128 bits once: 64 cycles > 30: 34 stall cycles.
    # Weights: each router (one PE row of 4 slots) loads 4 distinct tiles of 16 x 12 + 17 x 7 = 311 b: 1,244 b at
    # 24 b a cycle = 51.8 -> 52 cycles. Input from DRAM: 128 b, 1 cycle. 1 + 52 + 64 = 117.
    result = EyerissV2().simulate(fc_multicast_layer(), one_cluster("auto"))
    assert result.cycles == 117
    assert result.stall_cycles["noc_bandwidth"] == 34 and result.stall_cycles["weight_load"] == 52
    assert "NoC: iacts broadcast, weights unicast" in result.notes[1]  # the paper's FC pattern
    # Unicast: one copy per PE, 12 x 128 bits over the port: 768 cycles; 1 + 52 + 768 = 821.
    unicast = EyerissV2().simulate(fc_multicast_layer(), one_cluster("unicast"))
    assert unicast.cycles == 821 and unicast.stall_cycles["noc_bandwidth"] == 738


@pytest.mark.parametrize("arch_name", sorted(ARCHS))
@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_the_output_through_the_mapping_equals_numpy(arch_name, kind):
    layer = LAYERS[kind]()
    result = ARCHS[arch_name]().simulate(layer, load_arch(arch_name), compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(layer), rtol=1e-12, atol=1e-12)
    assert result.effectual_macs == effectual_macs(layer)
    assert sum(result.stall_cycles.values()) <= result.cycles


def test_static_matmul_through_the_mapping_and_activation_products_refused():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 3, 20)), rng.standard_normal((2, 20, 9)) * (rng.random((2, 20, 9)) < 0.5)
    layer = Layer(name="mm", op="matmul", input=x, weight=w)
    result = EyerissV2().simulate(layer, load_arch("eyeriss-v2"), compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(layer))
    attention = Layer(name="qk", op="matmul", input=x, weight=w, weight_is_static=False)
    with pytest.raises(UnsupportedLayerError, match="Eyeriss v2 cannot run a product of two activations"):
        EyerissV2().simulate(attention, load_arch("eyeriss-v2"))


def nested(layer: Layer, act_density: float, weight_density: float, seed: int = 7) -> Layer:
    """The layer with nonzeros at the given densities, each pattern a subset of any denser one."""
    rng = np.random.default_rng(seed)
    x = np.where(rng.random(layer.input.shape) < act_density, np.abs(layer.input) + 1, 0.0)
    w = np.where(rng.random(layer.weight.shape) < weight_density, layer.weight + 3, 0.0)
    return Layer(name=layer.name, op=layer.op, input=x, weight=w, stride=layer.stride, padding=layer.padding,
                 dilation=layer.dilation, groups=layer.groups)


@pytest.mark.parametrize("kind", ["conv", "depthwise", "pointwise", "fc", "stride2"])
def test_a_denser_layer_is_never_faster(kind):
    # Nested patterns: every nonzero of a sparser layer is a nonzero of a denser one. M0 is pinned (m0 = 4, which
    # every tile fits at every density) so that the mapping is the same and only the walk sees the difference.
    arch = load_arch("eyeriss-v2", ["dataflow.m0=4", "dataflow.iact_format=csc"])
    base = LAYERS[kind]()
    densities = (0.1, 0.3, 0.6, 1.0)
    for weight_density in densities:
        cycles = [EyerissV2().simulate(nested(base, a, weight_density), arch).cycles for a in densities]
        assert cycles == sorted(cycles), (weight_density, cycles)
    for act_density in densities:
        cycles = [EyerissV2().simulate(nested(base, act_density, w), arch).cycles for w in densities]
        assert cycles == sorted(cycles), (act_density, cycles)


@pytest.mark.parametrize("kind", ["conv", "depthwise", "pointwise", "fc"])
def test_v1_never_exploits_sparsity(kind):
    # Same shapes, dense vs 10% dense operands: without run-length coding in DRAM the cycles are identical; with
    # it (the chip's default) only the DRAM traffic differs, so the cycles outside DRAM stalls are identical.
    base = LAYERS[kind]()
    dense, sparse = nested(base, 1.0, 1.0), nested(base, 0.1, 0.1)
    plain = load_arch("eyeriss-v1", ["dataflow.rlc_dram=false"])
    assert EyerissV1().simulate(dense, plain).cycles == EyerissV1().simulate(sparse, plain).cycles
    chip = load_arch("eyeriss-v1")
    runs = [EyerissV1().simulate(layer, chip) for layer in (dense, sparse)]

    def on_chip(result):
        return result.cycles - result.stall_cycles["first_fetch"] - result.stall_cycles["memory_bandwidth"]

    assert on_chip(runs[0]) == on_chip(runs[1])
    assert runs[0].macs_issued == runs[1].macs_issued == base.macs
    # Data gating: a zero ifmap skips its MAC's energy, not its cycle.
    assert runs[1].actions[("mac", "compute")] < runs[0].actions[("mac", "compute")]


def test_v2_dense_reference_is_the_same_machine_uncompressed():
    layer = LAYERS["conv"]()
    workload = Workload(layers=(layer,), provenance={"model": "test"})
    result = simulate(workload, load_arch("eyeriss-v2"))
    assert result.dense_arch == "eyeriss-v2 (sparsity off)"
    dense = EyerissV2().simulate(layer, load_arch("eyeriss-v2", ["dataflow.iact_format=uncompressed",
                                                                 "dataflow.weight_format=uncompressed"]))
    assert result.rows[0].dense_cycles == dense.cycles > result.cycles
    assert dense.macs_issued == layer.macs


def test_a_tile_that_never_fits_is_an_error():
    # S = 17 taps: a filter row never fits the 16-entry iact scratch pad.
    wide = rng_layer("wide", (1, 1, 4, 20), (1, 1, 1, 17))
    with pytest.raises(ValueError, match="S = 17 taps never fits a PE"):
        EyerissV2().simulate(wide, load_arch("eyeriss-v2"))
    # A 3-tap row in a 2-entry iact scratch pad (4 bytes of 12-bit entries).
    small = load_arch("eyeriss-v2", ["memory.iact_spad.size_bytes=4"])
    with pytest.raises(ValueError, match="S = 3 taps never fits"):
        EyerissV2().simulate(LAYERS["conv"](), small)


def test_a_tile_too_big_for_the_weight_spad_is_split():
    # split policy with M0 up to 16 and a 24-value weight scratch pad (36 bytes of 12-bit pairs): a block of
    # 16 channels x 5 columns of the dense 1 x 1 conv holds 80 weights; halving gives 8 x 5 = 40, then 4 x 5 = 20
    # fits: every block of 16 is split into 4 (3 splits each).
    layer = rng_layer("pw", (1, 5, 4, 4), (32, 5, 1, 1), weight_density=1.0)
    arch = load_arch("eyeriss-v2", ["dataflow.weight_tile_policy=split", "memory.weight_spad.size_bytes=36"])
    result = EyerissV2().simulate(layer, arch, compute_output=True)
    assert result.metrics["split_blocks"] == 6 and result.metrics["m0"] == 4
    np.testing.assert_allclose(result.output, reference_output(layer))
    assert any("split" in note for note in result.notes)
    fitted = EyerissV2().simulate(layer, load_arch("eyeriss-v2", ["memory.weight_spad.size_bytes=36"]))
    assert fitted.metrics["m0"] == 4 and fitted.metrics["split_blocks"] == 0


def test_unknown_noc_mode_and_bad_arrays_are_arch_errors():
    with pytest.raises(ArchError, match=r"dataflow\.noc_modes\.conv\.iact: Input should be 'auto', 'unicast'"):
        load_arch("eyeriss-v2", ["dataflow.noc_modes.conv.iact=multicast"])
    with pytest.raises(ArchError, match="not a whole number of 3 x 4 PE clusters"):
        load_arch("eyeriss-v2", ["pe_array.rows=4"])
    with pytest.raises(ArchError, match=r"macs_per_pe \(1\) must equal dataflow\.simd_width \(2\)"):
        load_arch("eyeriss-v2", ["pe_array.macs_per_pe=1"])
    with pytest.raises(ArchError, match="a PE has one MAC"):
        load_arch("eyeriss-v1", ["pe_array.macs_per_pe=2"])


def test_depthwise_broadcasts_weights_and_fc_broadcasts_iacts():
    # The paper's use of the NoC per layer (Section III-B): depthwise weights to all PEs with unique iacts; FC
    # weights unicast, iacts broadcast.
    dw = rng_layer("dw", (1, 4, 16, 16), (4, 1, 3, 3), padding=(1, 1), groups=4)
    notes = EyerissV2().simulate(dw, load_arch("eyeriss-v2")).notes[1]
    assert "weights broadcast" in notes
    fc = EyerissV2().simulate(LAYERS["fc"](), load_arch("eyeriss-v2")).notes[1]
    assert "iacts broadcast, weights unicast" in fc


def test_every_action_is_priced_and_the_pe_arch_is_one_mac():
    workload = Workload(layers=(LAYERS["conv"](), LAYERS["fc"]()), provenance={"model": "test"})
    for name in ARCHS:
        result = simulate(workload, load_arch(name))
        assert result.energy_pj > 0 and result.latency_s > 0
    pe = load_arch("eyeriss-v2-pe")
    assert pe.pe_array.multipliers == 1 and pe.dataflow.config.simd_width == 1
