"""DCNN (accelsim.dataflows.dcnn), the SCNN paper's dense baseline with a loop nest of its own: cycles worked by hand,
the output computed through its schedule equal to numpy's, the walked schedule equal to the closed form, values
that never change the time, spatial passes, and arch errors."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.arch_configs import ArchError, load_arch
from accelsim.dataflows.dcnn import DCNN
from accelsim.reference import reference_output
from accelsim.workload import Layer

ARCH = load_arch("dcnn")


def conv(rng, n=1, c=3, k=5, h=10, w=10, r=3, s=3, density=1.0, **kw) -> Layer:
    x = rng.standard_normal((n, c, h, w)) * (rng.random((n, c, h, w)) < density)
    weight = rng.standard_normal((k, c // kw.get("groups", 1), r, s))
    return Layer("conv", "conv2d", x, weight, **kw)


def test_a_padded_conv_by_hand():
    # 10 x 10 outputs on 8 x 8 PEs: tiles of ceil(10 / 8) = 2 rows and columns, 5 x 5 = 25 PEs of 4 positions, the
    # other 39 idle. Kc = min(5, 1024 // 4) = 5: one group of ceil(5 / 4) = 2 channel vectors x ceil(4 / 4) = 1
    # position vector x C = 3 x 9 taps = 54 steps. Slots: 54 x 64 PEs x 16 = 55,296; products 5 x 100 x 27 =
    # 13,500; the 25 PEs' 21,600 slots leave 8,100 empty (fragmentation: 54 x 8,100 / 55,296 = 7.9 -> 8 cycles)
    # and the 39 idle PEs 33,696 (barrier: 32.9 -> 33). The drain of 5 x 4 partial sums over 32 banks: 1 cycle.
    result = DCNN().simulate(conv(np.random.default_rng(0), padding=1), ARCH)
    assert result.cycles == 55
    assert dict(result.stall_cycles) == {"accumulator_drain": 1, "memory_bandwidth": 0, "fragmentation": 8,
                                         "barrier": 33}
    assert result.macs_issued == result.macs == 13_500
    assert result.actions[("weight_fifo", "read")] == 25 * 54
    assert result.actions[("weight_broadcast", "transfer")] == 25 * 2 * 3 * 9  # vectors x the PEs that take them


def test_a_linear_layer_splits_output_channels_by_hand():
    # K = 300 over 64 PEs: ceil(300 / 64) = 5 each (PE 60 on: none); 3 batch rows as positions; per PE
    # ceil(5 / 4) = 2 x ceil(3 / 4) = 1 x C = 50 = 100 steps, then a 1-cycle drain of 5 x 3 partial sums.
    rng = np.random.default_rng(1)
    layer = Layer("fc", "linear", rng.standard_normal((3, 50)), rng.standard_normal((300, 50)))
    result = DCNN().simulate(layer, ARCH, compute_output=True)
    assert result.cycles == 101
    np.testing.assert_allclose(result.output, reference_output(layer))


@pytest.mark.parametrize("shape", [
    dict(padding=1), dict(stride=2), dict(stride=2, padding=1, h=15, w=13), dict(dilation=2, h=12, w=12),
    dict(groups=3, c=6, k=9), dict(groups=8, c=8, k=8, padding=1), dict(n=2, padding=1), dict(r=1, s=1, c=40, k=37),
])
def test_the_output_through_the_schedule_equals_numpy(shape):
    # compute_output walks every step of the schedule (accelsim.dataflows.dcnn.jit) and checks its step counts
    # against the closed form the cycles come from; the output must be the layer's.
    layer = conv(np.random.default_rng(2), **shape)
    result = DCNN().simulate(layer, ARCH, compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(layer), atol=1e-9)
    assert result.cycles == DCNN().simulate(layer, ARCH).cycles


def test_a_static_matmul_runs_its_matrices_one_after_another():
    rng = np.random.default_rng(3)
    layer = Layer("mm", "matmul", rng.standard_normal((2, 5, 16)), rng.standard_normal((2, 16, 9)))
    result = DCNN().simulate(layer, ARCH, compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(layer))
    assert result.metrics["rounds"] == 2


def test_zeros_never_change_a_dense_machine():
    rng = np.random.default_rng(4)
    dense, sparse = conv(rng, c=16, k=32, padding=1), conv(rng, c=16, k=32, padding=1, density=0.1)
    a, b = DCNN().simulate(dense, ARCH), DCNN().simulate(sparse, ARCH)
    assert a.cycles == b.cycles and dict(a.actions) == dict(b.actions)


def test_inputs_that_overflow_the_iaram_run_in_spatial_passes():
    # 256 channels of 28 x 28: a PE's 4 x 4 output tile reads a 6 x 6 x 256 x 2 B = 18 KB region, it fits 20 KB;
    # with 512 channels (36 KB) it does not: strips of output rows until it does.
    rng = np.random.default_rng(5)
    fits = DCNN().simulate(conv(rng, c=256, k=8, h=28, w=28, padding=1), ARCH)
    layer = conv(rng, c=512, k=8, h=28, w=28, padding=1)
    passes = DCNN().simulate(layer, ARCH, compute_output=True)
    assert fits.metrics["temporal_passes"] == 1 and passes.metrics["temporal_passes"] > 1
    assert any("spatial passes" in note for note in passes.notes)
    assert passes.actions[("dram", "write")] > 0 and fits.actions[("dram", "write")] == 0
    np.testing.assert_allclose(passes.output, reference_output(layer), atol=1e-8)


@pytest.mark.parametrize(("overrides", "message"), [
    (["dataflow.position_vector=2"], r"macs_per_pe \(16\) must equal dataflow weight_vector x position_vector = 8"),
    (["components.accumulator.size_bytes=2"], "at least one data.accumulator_bits partial sum"),
    (["dataflow.activation_vector=4"], "activation_vector: unknown key. Did you mean 'position_vector'"),
])
def test_bad_archs_fail_loudly(overrides, message):
    with pytest.raises(ArchError, match=message):
        load_arch("dcnn", overrides)


def test_products_of_two_activations_are_refused():
    rng = np.random.default_rng(6)
    layer = Layer("qk", "matmul", rng.standard_normal((2, 4, 8)), rng.standard_normal((2, 8, 4)),
                  weight_is_static=False)
    with pytest.raises(ValueError, match="DCNN cannot run a product of two activations"):
        DCNN().simulate(layer, ARCH)
