"""The systolic dataflow: its schedule computes the true output, N:M mode, memory traffic and stalls.

Cycle counts against SCALE-Sim's own outputs are in tests/test_scalesim_match.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from arch_samples import GOOD

from accelsim.arch import apply_overrides
from accelsim.arch_configs import arch_from_dict
from accelsim.dataflows.systolic import Systolic
from accelsim.reference import effectual_macs, reference_output
from accelsim.workload import Layer


def arch(*overrides: str):
    return arch_from_dict(apply_overrides(GOOD, list(overrides)))


def conv(rng, n=1, c=4, h=7, w=6, k=5, r=3, s=3, stride=1, padding=0, dilation=1, groups=1, density=1.0):
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    weight = rng.standard_normal((k, c // groups, r, s)).astype(np.float32)
    weight[rng.random(weight.shape) > density] = 0.0
    return Layer(name="conv", op="conv2d", input=x, weight=weight, stride=stride, padding=padding,
                 dilation=dilation, groups=groups)


def linear(rng, n=3, c=8, k=6):
    return Layer(name="fc", op="linear", input=rng.standard_normal((n, c)).astype(np.float32),
                 weight=rng.standard_normal((k, c)).astype(np.float32))


def matmul(rng, g=2, n=5, c=4, k=3):
    return Layer(name="qk", op="matmul", input=rng.standard_normal((g, n, c)).astype(np.float32),
                 weight=rng.standard_normal((g, c, k)).astype(np.float32), weight_is_static=False)


def nm_prune(weight: np.ndarray, n: int, m: int) -> np.ndarray:
    """Keep the n largest of every m along C (axis 1), for each (k, r, s)."""
    moved = np.moveaxis(weight, 1, -1).copy()
    groups = moved.reshape(*moved.shape[:-1], -1, m)
    order = np.argsort(-np.abs(groups), axis=-1)
    np.put_along_axis(groups, order[..., n:], 0.0, axis=-1)
    return np.moveaxis(groups.reshape(moved.shape), -1, 1)


LAYERS = {
    "conv3x3": lambda rng: conv(rng),
    "conv-stride2-pad1": lambda rng: conv(rng, h=9, w=8, stride=2, padding=1),
    "conv-dilated": lambda rng: conv(rng, h=9, w=9, dilation=2),
    "conv-grouped": lambda rng: conv(rng, c=6, k=9, groups=3, n=2),
    "depthwise": lambda rng: conv(rng, c=4, k=4, groups=4),
    "conv-1x1": lambda rng: conv(rng, r=1, s=1, c=40, k=37),
    "sparse-conv": lambda rng: conv(rng, density=0.3),
    "linear": linear,
    "matmul": matmul,
}


@pytest.mark.parametrize("stationary", ["os", "ws", "is"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_schedule_computes_the_reference_output(stationary, name):
    layer = LAYERS[name](np.random.default_rng(7))
    result = Systolic().simulate(layer, arch(f"dataflow.stationary={stationary}"), compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(layer), rtol=1e-9, atol=1e-9)
    assert result.macs_issued == layer.macs and result.effectual_macs == effectual_macs(layer)
    assert result.cycles == result.busy_cycles + sum(result.stall_cycles.values())
    assert 0 < result.utilization <= 1


def test_dense_cycles_ignore_sparsity():
    rng = np.random.default_rng(0)
    dense, sparse = conv(rng), conv(rng, density=0.1)
    assert Systolic().simulate(dense, arch()).cycles == Systolic().simulate(sparse, arch()).cycles


def test_nm_mode_halves_the_reduction_and_keeps_the_output():
    rng = np.random.default_rng(3)
    layer = conv(rng, c=16, k=8)
    pruned = Layer(name="conv", op="conv2d", input=layer.input, weight=nm_prune(layer.weight, 2, 4))
    sparse_arch = arch("dataflow.nm='2:4'", "dataflow.stationary=os")
    result = Systolic().simulate(pruned, sparse_arch, compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(pruned), rtol=1e-9, atol=1e-9)
    assert result.macs_issued == layer.macs // 2
    assert not result.notes
    dense = Systolic().simulate(pruned, arch("dataflow.stationary=os"))
    # OS streams the reduction W = 3*3*16 = 144 (dense) or 72 (2:4) per fold; folds are the same.
    assert dense.cycles - result.cycles == (144 - 72) * math.ceil(5 * 4 / 4) * math.ceil(8 / 2)


def test_nm_mode_runs_unfit_layers_dense_and_says_why():
    rng = np.random.default_rng(4)
    unpruned = conv(rng, c=8)
    result = Systolic().simulate(unpruned, arch("dataflow.nm='2:4'"), compute_output=True)
    assert result.macs_issued == unpruned.macs
    assert "not 2:4" in result.notes[0]
    attention = Systolic().simulate(matmul(rng), arch("dataflow.nm='2:4'"))
    assert "activation" in attention.notes[0]


def test_nm_mode_with_a_partial_last_group_counts_like_scalesim():
    # W = 3*3*3 = 27 = 6 groups of 4 + 3: 6*2 + min(3, 2) = 14 slots.
    rng = np.random.default_rng(8)
    layer = conv(rng, c=3, k=4, h=5, w=5)
    b = layer.weight.transpose(2, 3, 1, 0).reshape(27, 4).copy()
    keep = (np.arange(27) % 4) < 2  # SCALE-Sim's fixed pattern: the first 2 of every 4
    b[~keep] = 0.0
    weight = b.reshape(3, 3, 3, 4).transpose(3, 2, 0, 1)
    pruned = Layer(name="conv", op="conv2d", input=layer.input, weight=np.ascontiguousarray(weight))
    result = Systolic().simulate(pruned, arch("dataflow.nm='2:4'"), compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(pruned), rtol=1e-9, atol=1e-9)
    assert result.macs_issued == 3 * 3 * 4 * 14


@pytest.mark.parametrize("text", ["2:", "4:2", "0:4", "a:b", "2-4"])
def test_bad_nm_is_refused(text):
    with pytest.raises(ValueError, match="N:M"):
        arch(f"dataflow.nm='{text}'")


def test_bandwidth_stalls_appear_only_when_dram_is_slow():
    layer = conv(np.random.default_rng(5), c=64, k=64, h=16, w=16)
    fast = Systolic().simulate(layer, arch())
    slow = Systolic().simulate(layer, arch("memory.dram.bandwidth_bytes_per_cycle=0.05"))
    memory = ("memory_bandwidth", "first_fetch", "final_drain")
    assert all(fast.stall_cycles[cause] == 0 for cause in memory)
    assert all(slow.stall_cycles[cause] > 0 for cause in memory)
    assert slow.cycles == fast.cycles + sum(slow.stall_cycles[cause] for cause in memory)


def test_a_layer_whose_fold_cannot_fit_is_refused():
    layer = conv(np.random.default_rng(6))
    with pytest.raises(ValueError, match=r"cannot be mapped.*4x2 operands of 16 bits \(16 bytes\).*offers 8 bytes"):
        Systolic().simulate(layer, arch("memory.filter_sram.size_bytes=16", "memory.filter_sram.width_bits=8",
                                        "memory.filter_sram.double_buffered=true",
                                        "memory.filter_sram.read_energy_pj=1", "memory.filter_sram.write_energy_pj=1",
                                        "explicit_energy_node_nm=45"))


def test_dense_config_turns_nm_off():
    config = Systolic.Config(stationary="ws", nm="2:4")
    assert Systolic().dense_config(config).nm is None


def test_groups_run_one_after_another_by_hand():
    # Depthwise 3x3 on a 5x5 input, C = K = G = 4: per group M = 9 outputs, W = 9, one filter. OS on the 4x2 array:
    # 3 row folds x 1 column fold of T + R + C - 2 = 9 + 4 + 2 - 2 = 13 cycles, minus one per run (SCALE-Sim's
    # last-cycle index), four runs: 4 * (3 * 13 - 1) = 152.
    layer = conv(np.random.default_rng(9), c=4, k=4, h=5, w=5, groups=4)
    assert Systolic().simulate(layer, arch("dataflow.stationary=os")).cycles == 152


def test_unquoted_nm_ratio_is_read_as_text():
    assert arch("dataflow.nm=2:4").dataflow.config.nm == "2:4"
