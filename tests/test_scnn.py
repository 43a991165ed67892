"""The SCNN dataflow (and its dense twin DCNN) end to end: its schedule computes every kind of layer it maps, its
counts agree with numpy re-derivations of the schedule, its cycles add up and move the right way with density, and
it refuses what it cannot run. Hand-worked cycle examples of the numba walk are in tests/test_scnn_jit.py.

Expected values come from accelsim.reference, from numpy re-counts of the PT-IS-CP schedule written here
independently of accelsim.dataflows.scnn.mapping, or from hand calculation in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from accelsim.arch import ArchError
from accelsim.arch_configs import load_arch
from accelsim.dataflows.scnn import SCNN
from accelsim.dataflows.scnn import jit as kernel
from accelsim.energy import EnergyModel
from accelsim.reference import effectual_macs, reference_output
from accelsim.simulate import simulate
from accelsim.workload import Layer, Workload

# The default archs: 8 x 8 PEs of F = I = 4 multipliers (1,024), 32 accumulator banks of 32 entries (1,024 partial
# sums per PE), DRAM at 50 bytes per cycle.
ROWS = COLS = 8
PES = ROWS * COLS
VECTOR = 4  # F = I = 4

VARIANTS = {
    "scnn": ("scnn", []),
    # SCNN's own schedule with zero skipping and the crossbar off (PT-IS-CP-dense); DCNN is another dataflow
    "dense": ("scnn", ["dataflow.skip_zero_weights=false", "dataflow.skip_zero_activations=false",
                       "dataflow.scatter_crossbar=false"]),
    "sparse_w": ("scnn", ["dataflow.skip_zero_activations=false"]),
    "sparse_a": ("scnn", ["dataflow.skip_zero_weights=false"]),
}
SKIPS = {"scnn": (True, True), "dense": (False, False), "sparse_w": (False, True), "sparse_a": (True, False)}
_ARCHS: dict = {}


def arch(variant: str, *extra: str):
    key = (variant, extra)
    if key not in _ARCHS:
        name, overrides = VARIANTS[variant]
        _ARCHS[key] = load_arch(name, [*overrides, *extra])
    return _ARCHS[key]


def sparse(rng, shape, density):
    return rng.standard_normal(shape) * (rng.random(shape) < density)


def conv(rng, n=1, c=8, k=12, h=12, w=12, r=3, s=3, *, wd=0.4, ad=0.5, **kwargs):
    g = kwargs.get("groups", 1)
    return Layer(name="conv", op="conv2d", input=sparse(rng, (n, c, h, w), ad),
                 weight=sparse(rng, (k, c // g, r, s), wd), **kwargs)


def linear(rng, n, c, k, *, wd=0.4, ad=0.5):
    return Layer(name="fc", op="linear", input=sparse(rng, (n, c), ad), weight=sparse(rng, (k, c), wd))


def static_matmul(rng, g=2, n=3, c=10, k=7, *, wd=0.5, ad=0.6):
    return Layer(name="bmm", op="matmul", input=sparse(rng, (g, n, c), ad), weight=sparse(rng, (g, c, k), wd))


def with_operands(layer: Layer, x=None, weight=None) -> Layer:
    return Layer(name=layer.name, op=layer.op, input=layer.input if x is None else x,
                 weight=layer.weight if weight is None else weight, stride=layer.stride, padding=layer.padding,
                 dilation=layer.dilation, groups=layer.groups, weight_is_static=layer.weight_is_static)


LAYERS = {
    "3x3_s1_p1": lambda rng: conv(rng, padding=1),
    "3x3_s1_p0": lambda rng: conv(rng, h=13, w=11),
    "3x3_s2_p1": lambda rng: conv(rng, c=6, k=10, h=15, w=13, stride=2, padding=1),
    "3x3_s2_p0": lambda rng: conv(rng, h=16, w=16, stride=2),
    "3x3_p2": lambda rng: conv(rng, c=4, k=6, h=9, w=10, padding=2),
    "1x1": lambda rng: conv(rng, c=16, k=24, h=10, w=10, r=1, s=1),
    "1x1_s2": lambda rng: conv(rng, c=16, k=20, h=11, w=12, r=1, s=1, stride=2),
    "5x5_p2": lambda rng: conv(rng, c=4, k=8, h=12, w=11, r=5, s=5, padding=2),
    "dilation2": lambda rng: conv(rng, c=5, k=7, h=14, w=14, padding=2, dilation=2),
    "asymmetric": lambda rng: conv(rng, c=5, k=9, h=13, w=15, r=3, s=5, stride=(2, 1), padding=(0, 2)),
    "grouped": lambda rng: conv(rng, c=8, k=12, padding=1, groups=2),
    "depthwise": lambda rng: conv(rng, c=8, k=8, h=11, w=12, padding=1, groups=8),
    "depthwise_s2": lambda rng: conv(rng, c=12, k=12, h=17, w=16, stride=2, padding=1, groups=12),
    "batch2": lambda rng: conv(rng, n=2, c=6, k=10, h=9, w=9, padding=1),
    "plane_5x7": lambda rng: conv(rng, c=6, k=8, h=5, w=7, padding=1),
    "plane_19x17": lambda rng: conv(rng, c=4, k=16, h=19, w=17, r=5, s=5, padding=2),
    "plane_19x17_s2": lambda rng: conv(rng, n=2, c=8, k=16, h=19, w=17, stride=2, padding=1),
    "linear_n1": lambda rng: linear(rng, 1, 16, 70),
    "linear_n3": lambda rng: linear(rng, 3, 16, 100),
    "linear_n3_k200": lambda rng: linear(rng, 3, 40, 200),
    "matmul_static": static_matmul,
}


def make(name: str, seed: int = 0) -> Layer:
    return LAYERS[name](np.random.default_rng(seed))


def run(layer: Layer, variant: str = "scnn", *extra: str, compute_output: bool = False):
    return SCNN().simulate(layer, arch(variant, *extra), compute_output=compute_output)


# --- numpy re-counts of the schedule --------------------------------------------------------------------------------

def masks(layer: Layer, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """Operand slots of the schedule: the nonzeros of a skipped operand, every element of the other."""
    skip_a, skip_w = SKIPS[variant]
    a = layer.input != 0 if skip_a else np.ones(layer.input.shape, dtype=bool)
    w = layer.weight != 0 if skip_w else np.ones(layer.weight.shape, dtype=bool)
    return a, w


def issued_products(layer: Layer, variant: str, phases: bool = False) -> int:
    """Cartesian product per input channel: every operand activation of channel c meets every operand weight of c;
    with `phases`, only those of the same stride phase ((h + pad) mod stride = (r dil) mod stride, per axis)."""
    a, w = masks(layer, variant)
    if layer.op == "conv2d":
        k, cg = w.shape[:2]
        g = layer.groups
        (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation
        classes = [(i, j) for i in range(sh) for j in range(sw)] if phases else [None]
        total = 0
        for cls in classes:
            act, wt = a, w
            if cls is not None:
                rows_a = (np.arange(a.shape[2]) + ph) % sh == cls[0]
                cols_a = (np.arange(a.shape[3]) + pw) % sw == cls[1]
                act = a * rows_a[None, None, :, None] * cols_a[None, None, None, :]
                rows_w = (np.arange(w.shape[2]) * dh) % sh == cls[0]
                cols_w = (np.arange(w.shape[3]) * dw) % sw == cls[1]
                wt = w * rows_w[None, None, :, None] * cols_w[None, None, None, :]
            per_channel_a = act.sum(axis=(2, 3))  # (N, C)
            per_channel_w = wt.sum(axis=(2, 3)).reshape(g, k // g, cg).sum(axis=1).ravel()  # (C,): g*cg + ch
            total += int((per_channel_a * per_channel_w[None, :]).sum())
        return total
    if layer.op == "linear":
        return int((a.sum(axis=0) * w.sum(axis=0)).sum())
    return int((a.sum(axis=1) * w.sum(axis=2)).sum())  # (G, N, C) and (G, C, K)


def useful_products(layer: Layer, variant: str) -> int:
    """Issued products that land on an output: the effectual MACs of the layer whose operands are the slot masks."""
    a, w = masks(layer, variant)
    return effectual_macs(with_operands(layer, a.astype(np.float64), w.astype(np.float64)))


def phase_masks(layer: Layer, a: np.ndarray, w: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The operand masks of each stride phase class: activations with (h + pad) mod stride = i, weights with
    (r dil) mod stride = i (per axis). Stride 1: one class, the masks themselves."""
    (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation
    pairs = []
    for i in range(sh):
        for j in range(sw):
            act_rows = (np.arange(a.shape[2]) + ph) % sh == i
            act_cols = (np.arange(a.shape[3]) + pw) % sw == j
            w_rows = (np.arange(w.shape[2]) * dh) % sh == i
            w_cols = (np.arange(w.shape[3]) * dw) % sw == j
            pairs.append((a * act_rows[None, None, :, None] * act_cols[None, None, None, :],
                          w * w_rows[None, None, :, None] * w_cols[None, None, None, :]))
    return pairs


def planar_schedule(layer: Layer, variant: str) -> tuple[int, int, int]:
    """(compute cycles, steps, activation vectors) of a conv without bank conflicts, assuming one output-channel
    group per conv group (Kc = K/G). The plane is cut into 8 x 8 tiles of ceil(H/8) x ceil(W/8); per group every PE
    walks its channels and, within a channel, its stride phase classes; a class with A activation and B weight
    operands takes ceil(A/I) * ceil(B/F) steps. A group lasts as long as its slowest PE."""
    a, w = masks(layer, variant)
    n, _, h, wd = a.shape
    k, cg = w.shape[:2]
    g = layer.groups
    kg = k // g
    ht, wt = math.ceil(h / ROWS), math.ceil(wd / COLS)
    classes = phase_masks(layer, a, w)
    compute = steps = vectors = 0
    for image in range(n):
        for group in range(g):
            per_pe = np.zeros(PES, dtype=np.int64)
            for ch in range(cg):
                for tile in range(PES):
                    tr, tc = divmod(tile, COLS)
                    channel = a[image, group * cg + ch, tr * ht:(tr + 1) * ht, tc * wt:(tc + 1) * wt]
                    if not channel.any() or not w[group * kg:(group + 1) * kg, ch].any():
                        continue
                    for a_class, w_class in classes:
                        n_w = int(w_class[group * kg:(group + 1) * kg, ch].sum())
                        n_a = int(a_class[image, group * cg + ch, tr * ht:(tr + 1) * ht, tc * wt:(tc + 1) * wt].sum())
                        if n_a and n_w:
                            per_pe[tile] += math.ceil(n_a / VECTOR) * math.ceil(n_w / VECTOR)
                            vectors += math.ceil(n_a / VECTOR)
            compute += int(per_pe.max())
            steps += int(per_pe.sum())
    return compute, steps, vectors


def split_schedule(layer: Layer, variant: str) -> tuple[int, int, int]:
    """The same for a linear layer or static matmul: output channels split ceil(K/64) per PE, the whole input
    (batch rows) on every PE, one group per matrix (Kc = ceil(K/64) when N * Kc partial sums fit)."""
    a, w = masks(layer, variant)
    if layer.op == "linear":
        pairs = [(a, w)]
    else:
        pairs = [(a[i], w[i].T) for i in range(a.shape[0])]  # (N, C) and (K, C)
    compute = steps = vectors = 0
    for x_mask, w_mask in pairs:
        per_pe_k = math.ceil(w_mask.shape[0] / PES)
        n_a = x_mask.sum(axis=0)  # (C,)
        per_pe = np.zeros(PES, dtype=np.int64)
        for pe in range(PES):
            n_w = w_mask[pe * per_pe_k:(pe + 1) * per_pe_k].sum(axis=0)  # (C,)
            both = (n_a > 0) & (n_w > 0)
            a_vectors = -(-n_a[both] // VECTOR)
            per_pe[pe] = int((a_vectors * -(-n_w[both] // VECTOR)).sum())
            vectors += int(a_vectors.sum())
        compute += int(per_pe.max())
        steps += int(per_pe.sum())
    return compute, steps, vectors


def schedule(layer: Layer, variant: str) -> tuple[int, int, int]:
    return planar_schedule(layer, variant) if layer.op == "conv2d" else split_schedule(layer, variant)


def counted(actions) -> set:
    """The actions a result counted. (`key in actions` is always true: ActionCounts reads a missing key as 0.)"""
    return set(actions)


def one_group_per_conv_group(layer: Layer, result) -> bool:
    d = layer.dims
    return result.metrics["output_channel_group_size"] == (d["K"] // d["G"] if layer.op == "conv2d"
                                                          else math.ceil(d["K"] / PES))


# --- 1. the schedule computes the layer ----------------------------------------------------------------------------

@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", list(LAYERS))
def test_output_equals_the_reference(name, variant):
    layer = make(name)
    result = run(layer, variant, compute_output=True)
    assert result.output.shape == layer.output_shape
    np.testing.assert_allclose(result.output, reference_output(layer), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_output_of_random_shapes_equals_the_reference(seed):
    rng = np.random.default_rng(100 + seed)
    g = int(rng.choice([1, 2, 4]))
    r, s = (int(v) for v in rng.choice([1, 3, 5], size=2))
    layer = conv(rng, n=int(rng.integers(1, 3)), c=g * int(rng.integers(1, 5)), k=g * int(rng.integers(1, 7)),
                 h=int(rng.integers(2 * r, 21)), w=int(rng.integers(2 * s, 21)), r=r, s=s, groups=g,
                 stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))),
                 padding=(int(rng.integers(0, 3)), int(rng.integers(0, 3))),
                 dilation=(int(rng.integers(1, 3)), int(rng.integers(1, 3))), wd=0.3, ad=0.3)
    for variant in VARIANTS:
        result = run(layer, variant, compute_output=True)
        np.testing.assert_allclose(result.output, reference_output(layer), rtol=1e-9, atol=1e-12)


def test_all_zero_activations_give_zero_output():
    layer = with_operands(make("3x3_s1_p1"), x=np.zeros((1, 8, 12, 12)))
    result = run(layer, compute_output=True)
    assert result.macs_issued == 0 and result.effectual_macs == 0 and not result.output.any()
    # DCNN still multiplies every slot: 8 channels x 144 positions x 12 x 9 weights.
    assert run(layer, "dense").macs_issued == 8 * 144 * 12 * 9


# --- 2. what SCNN cannot run ---------------------------------------------------------------------------------------

def test_attention_products_are_refused():
    rng = np.random.default_rng(8)
    layer = Layer(name="qk", op="matmul", input=rng.standard_normal((2, 3, 4)), weight=rng.standard_normal((2, 4, 5)),
                  weight_is_static=False)
    for variant in ("scnn", "dense"):
        with pytest.raises(ValueError, match="attention"):
            run(layer, variant)


# --- 3. the counts and the cycle split -----------------------------------------------------------------------------

STALLS = {"wasted_products", "fragmentation", "bank_conflict", "barrier", "accumulator_drain", "memory_bandwidth"}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", ["3x3_s1_p1", "3x3_s2_p1", "1x1", "5x5_p2", "depthwise", "batch2", "plane_5x7",
                                  "plane_19x17_s2", "linear_n3", "matmul_static"])
def test_counts_agree_with_a_numpy_recount(name, variant):
    layer = make(name, seed=1)
    result = run(layer, variant)
    assert set(result.stall_cycles) == STALLS
    assert result.cycles == result.busy_cycles + sum(result.stall_cycles.values())
    assert result.multipliers == PES * VECTOR * VECTOR
    issued = issued_products(layer, variant, phases=True)
    useful = useful_products(layer, variant)
    assert result.macs_issued == issued
    assert result.actions[("mac", "compute")] == issued
    assert result.actions[("accumulator", "write")] == useful  # every product that reaches an accumulator
    assert result.metrics["wasted_products"] == issued - useful
    assert result.macs_issued <= result.cycles * result.multipliers
    assert result.effectual_macs == effectual_macs(layer)  # on scnn counted by the kernel itself
    # The four shares of the compute slots (wasted, empty, conflict, barrier) leave exactly the useful products:
    # busy cycles = useful / multipliers, up to the rounding of four shares (<= 0.5 cycle each).
    assert abs(result.busy_cycles - useful / result.multipliers) <= 2
    # The schedule's steps and activation-vector reads, re-counted in numpy.
    compute, steps, vectors = schedule(layer, variant)
    assert result.actions[("weight_fifo", "read")] == steps
    assert result.actions[("iaram", "read")] == vectors
    exposed = result.stall_cycles["accumulator_drain"] + result.stall_cycles["memory_bandwidth"]
    assert one_group_per_conv_group(layer, result)  # the re-count's assumption (Kc = K/G) holds for these layers
    if variant == "dense":  # no crossbar: a step is one cycle
        assert result.cycles - exposed == compute
        assert result.stall_cycles["bank_conflict"] == 0
    else:  # bank conflicts only add cycles
        assert result.cycles - exposed >= compute


@pytest.mark.parametrize("name", ["3x3_s1_p1", "3x3_s2_p1", "grouped", "plane_19x17", "linear_n1"])
@pytest.mark.parametrize("variant", ["scnn", "sparse_w", "sparse_a"])
def test_without_the_crossbar_a_step_is_one_cycle(name, variant):
    layer = make(name, seed=2)
    result = run(layer, variant, "dataflow.scatter_crossbar=false")
    compute, _, _ = schedule(layer, variant)
    assert one_group_per_conv_group(layer, result)
    exposed = result.stall_cycles["accumulator_drain"] + result.stall_cycles["memory_bandwidth"]
    assert result.cycles - exposed == compute
    assert result.stall_cycles["bank_conflict"] == 0
    assert ("scatter_crossbar", "transfer") not in counted(result.actions)


def test_the_dense_schedule_issues_every_slot():
    # Without stride phases every in-plane activation of channel c meets every weight of c's group:
    # N C H W (K/G) R S products.
    for name in ("3x3_s1_p1", "3x3_s2_p1", "grouped", "depthwise", "batch2", "5x5_p2"):
        layer = make(name)
        d = layer.dims
        result = run(layer, "dense", "dataflow.stride_phases=false")
        assert result.macs_issued == d["N"] * d["C"] * d["H"] * d["W"] * d["K"] // d["G"] * d["R"] * d["S"]
    layer = make("linear_n3")
    assert run(layer, "dense").macs_issued == 3 * 16 * 100


def test_stride_phases_waste_no_product_on_strides():
    for variant in ("scnn", "dense"):
        # With stride phases (the default) an activation meets only the weights of its phase: a 1 x 1 stride-2
        # layer wastes nothing, and a padded 3 x 3 stride-2 layer only what hangs over its borders.
        assert run(make("1x1_s2"), variant).metrics["wasted_products"] == 0
        layer = make("3x3_s2_p1")
        result = run(layer, variant)
        assert result.metrics["wasted_products"] == issued_products(layer, variant, phases=True) - useful_products(
            layer, variant)
        # Without them, products of odd rows/columns with a kernel offset of the wrong parity land between outputs.
        assert run(make("1x1_s2"), variant, "dataflow.stride_phases=false").metrics["wasted_products"] > 0
        # 1 x 1, stride 1, no padding: every product is an output.
        result = run(make("1x1"), variant)
        assert result.metrics["wasted_products"] == 0 and result.stall_cycles["wasted_products"] == 0
        # 3 x 3, stride 1, no padding still wastes: an activation in the first row times an offset r >= 1 feeds an
        # output row -r < 0. The count is issued - useful from numpy (test_counts_agree_with_a_numpy_recount).
        layer = make("3x3_s1_p0")
        assert run(layer, variant).metrics["wasted_products"] == (issued_products(layer, variant)
                                                                  - useful_products(layer, variant)) > 0


def test_stride_two_products_by_hand():
    # One 4 x 4 channel of ones, one 3 x 3 filter of ones, stride 2, no padding: P = Q = 1; the 9 products of the
    # output's window are useful. Without phases: 16 x 9 = 144 products. With phases, activations of row/column
    # parity (a, b) meet weights of offset parity (a, b): (even, even) 4 x 4, (even, odd) 4 x 2, (odd, even) 4 x 2,
    # (odd, odd) 4 x 1 = 36 products, 27 of them off the 1 x 1 output (the borders).
    layer = Layer(name="s2", op="conv2d", input=np.ones((1, 1, 4, 4)), weight=np.ones((1, 1, 3, 3)), stride=2)
    for variant in ("scnn", "dense"):
        for extra, issued in (("dataflow.stride_phases=false", 144), ("dataflow.stride_phases=true", 36)):
            result = run(layer, variant, extra, compute_output=True)
            assert result.macs_issued == issued and result.metrics["wasted_products"] == issued - 9
            assert result.effectual_macs == 9
            np.testing.assert_allclose(result.output, [[[[9.0]]]])


def test_dense_schedule_kernels_agree():
    # The dense schedule counts with a fast kernel when no output is asked for and walks every product when it is.
    for name in ("3x3_s2_p1", "dilation2", "depthwise", "plane_19x17_s2", "linear_n3"):
        layer = make(name, seed=3)
        fast, walked = run(layer, "dense"), run(layer, "dense", compute_output=True)
        assert fast.cycles == walked.cycles and dict(fast.stall_cycles) == dict(walked.stall_cycles)
        oaram = ("oaram", "write")  # see test_uncompressed_outputs_are_written_whole_whether_or_not_asked_for
        assert {k: v for k, v in fast.actions.items() if k != oaram} == \
            {k: v for k, v in walked.actions.items() if k != oaram}


def test_compressed_outputs_write_their_positive_values():
    # SCNN's PPU applies ReLU and compresses: the OARAM takes the positive outputs, 20 bits each (16-bit value +
    # 4-bit index), in 80-bit accesses.
    for name in ("3x3_s2_p1", "depthwise", "plane_19x17_s2", "linear_n3"):
        layer = make(name, seed=3)
        positive = int((reference_output(layer) > 0).sum())
        for compute_output in (False, True):
            result = run(layer, compute_output=compute_output)
            assert result.actions[("oaram", "write")] == math.ceil(positive * 20 / 80)


@pytest.mark.parametrize(("variant", "bits"), [("dense", 16 / 80), ("sparse_w", 16 / 80)])
def test_uncompressed_outputs_are_written_whole_whether_or_not_asked_for(variant, bits):
    # 3x3_s2_p1: K = 10, 15 x 13 -> P = (15 + 2 - 3) // 2 + 1 = 8, Q = (13 + 2 - 3) // 2 + 1 = 7: 560 outputs,
    # every one written uncompressed (16 bits, no index) in 80-bit (SCNN's OARAM) accesses.
    layer = make("3x3_s2_p1", seed=3)
    writes = [run(layer, variant, compute_output=c).actions[("oaram", "write")] for c in (False, True)]
    assert writes == [math.ceil(560 * bits)] * 2


def test_conv_drains_every_partial_sum_of_the_region():
    # 16 x 16 plane on 8 x 8 PEs, 1 x 1 kernel: 2 x 2 tiles, no halo; each PE drains its 4 positions of 5 channels.
    layer = Layer(name="c", op="conv2d", input=np.ones((1, 3, 16, 16)), weight=np.ones((5, 3, 1, 1)))
    result = run(layer)
    assert result.actions[("accumulator", "read")] - result.actions[("accumulator", "write")] == 5 * 256
    assert result.metrics["halo_partial_sums"] == 0


# --- 4, 5. density and zero skipping -------------------------------------------------------------------------------

DENSITIES = (0.2, 0.4, 0.6, 0.8, 1.0)


def nested(seed: int, n, c, k, h, w, r, **kwargs) -> list[Layer]:
    """The same values under nested masks: each denser layer's nonzeros are a superset of the sparser one's."""
    rng = np.random.default_rng(seed)
    x, weight = rng.standard_normal((n, c, h, w)), rng.standard_normal((k, c // kwargs.get("groups", 1), r, r))
    ux, uw = rng.random(x.shape), rng.random(weight.shape)
    return [Layer(name="d", op="conv2d", input=np.where(ux < d, x, 0.0), weight=np.where(uw < d, weight, 0.0),
                  **kwargs) for d in DENSITIES]


MONOTONE_SHAPES = [
    (0, dict(n=1, c=8, k=16, h=12, w=12, r=3, padding=1)),
    (1, dict(n=1, c=16, k=24, h=19, w=17, r=3, stride=2, padding=1)),
    (2, dict(n=2, c=16, k=24, h=10, w=9, r=1)),
    (3, dict(n=1, c=6, k=12, h=16, w=16, r=5, padding=2)),
    (4, dict(n=1, c=8, k=8, h=13, w=14, r=3, padding=1, groups=8)),
    (5, dict(n=1, c=12, k=20, h=5, w=7, r=3, padding=1)),
]


@pytest.mark.parametrize(("seed", "shape"), MONOTONE_SHAPES)
def test_a_denser_layer_is_never_faster(seed, shape):
    layers = nested(seed, **shape)
    cycles = [run(layer).cycles for layer in layers]
    assert cycles == sorted(cycles), cycles
    # Fully dense, SCNN's operand lists are DCNN's: the same steps, the same groups and drains; SCNN adds only
    # bank-conflict waits. With no DRAM wait (20-bit weights at 50 B/cycle are hidden under the dense compute),
    # cycles = compute + exposed drains, which never falls as compute grows: SCNN is never faster than DCNN.
    assert layers[-1].input.all() and layers[-1].weight.all()
    scnn, dense = run(layers[-1]), run(layers[-1], "dense")
    assert scnn.stall_cycles["memory_bandwidth"] == dense.stall_cycles["memory_bandwidth"] == 0
    assert dense.cycles <= scnn.cycles == cycles[-1]


@pytest.mark.parametrize(("seed", "shape"), MONOTONE_SHAPES)
def test_skipping_more_zeros_is_never_slower(seed, shape):
    # At ~30% density each variant's operand lists are supersets of SCNN's (the unskipped operand keeps every
    # slot), so it runs at least as many steps per channel. Bank conflicts could in principle reorder that (a longer
    # list regroups the vectors), and so could the drain/DRAM double count (test_drain_and_dram_waits_...); neither
    # is close here: the margins are tens of percent and no group waits for DRAM.
    dense = nested(seed, **shape)[-1]
    rng = np.random.default_rng(seed + 50)
    layer = with_operands(dense, x=np.where(rng.random(dense.input.shape) < 0.3, dense.input, 0.0),
                          weight=np.where(rng.random(dense.weight.shape) < 0.3, dense.weight, 0.0))
    results = {variant: run(layer, variant) for variant in ("scnn", "sparse_w", "sparse_a", "dense")}
    assert all(r.stall_cycles["memory_bandwidth"] == 0 for r in results.values())
    assert results["scnn"].cycles <= results["sparse_w"].cycles
    assert results["scnn"].cycles <= results["sparse_a"].cycles
    assert results["scnn"].macs_issued <= min(results["sparse_w"].macs_issued, results["sparse_a"].macs_issued)


def test_drain_and_dram_waits_do_not_make_a_denser_layer_faster():
    # 16 x 16 plane, 1 x 1 kernel: 2 x 2 tiles, region 4 partial sums, Kc = 1024 / 4 = 256; K = 6 x 256: six
    # groups, each drains 256 x 4 / 32 banks = 32 cycles. Per group, channel 0 has 40 weights (10 vectors), channel 1
    # has 8 (2 vectors), channel 2 all 256 (but no activation, so it costs DRAM time only: ~304 entries x 20 bits
    # / 50 B per cycle ~ 15 cycles a group). One activation (channel 0) on PE 0: a group computes 10 cycles;
    # the 32-cycle drain and the 15-cycle weight fetch both outlast it. A second activation (channel 1, same PE)
    # adds 2 cycles per group (12 extra in all) and hides 2 more cycles of drain and 2 of DRAM wait after each of
    # the first five groups (20 in all): the model reports the denser layer 8 cycles faster. Running drain and
    # fetch in parallel with each other as well as with the compute, the next group starts after max(compute,
    # drain, fetch) and the denser layer is 2 cycles slower.
    groups, kc, c = 6, 256, 3
    weight = np.zeros((groups * kc, c, 1, 1))
    for g in range(groups):
        weight[g * kc:g * kc + 40, 0] = 1.0
        weight[g * kc:g * kc + 8, 1] = 1.0
        weight[g * kc:(g + 1) * kc, 2] = 1.0
    sparser = np.zeros((1, c, 16, 16))
    sparser[0, 0, 0, 0] = 1.0
    denser = sparser.copy()
    denser[0, 1, 0, 0] = 1.0
    results = [run(Layer(name="l", op="conv2d", input=x, weight=weight)) for x in (sparser, denser)]
    assert results[0].metrics["output_channel_group_size"] == kc and results[0].metrics["rounds"] == groups
    assert results[1].cycles >= results[0].cycles, [r.cycles for r in results]


# --- the output-channel split of FC layers -------------------------------------------------------------------------

def test_linear_last_group_drains_only_its_channels():
    # N = 8 rows, C = 2, K = 64 x 130: 130 output channels per PE; Kc = min(130, 1024 // 8) = 128: groups of 128
    # and 2 channels. All dense. Group 1 per PE: per input channel 2 activation vectors x 32 weight vectors =
    # 64 steps, x 2 channels = 128 cycles; addresses 8 k + q of one step (4 consecutive k from a multiple of 4,
    # 4 consecutive q) fall in distinct banks (low 5 bits distinct, XOR-folded with one common high digit): no
    # waits. Group 2: 2 channels x 2 activation vectors x 1 weight vector = 4 cycles. Drains: 128 x 8 / 32 = 32
    # cycles, 28 of them exposed after group 2's 4 cycles; then group 2's own drain, 2 x 8 / 32 -> 1 cycle.
    # DRAM: group 2's 256 weights x 20 bits = 640 B arrive in 12.8 cycles under group 1's 128: no wait.
    rng = np.random.default_rng(5)
    layer = Layer(name="fc", op="linear", input=rng.standard_normal((8, 2)), weight=rng.standard_normal((64 * 130, 2)))
    result = run(layer)
    assert result.metrics["output_channel_group_size"] == 128 and result.metrics["rounds"] == 2
    assert result.stall_cycles["accumulator_drain"] == 28 + 1
    assert result.cycles == 128 + 4 + 29


def test_linear_drains_one_partial_sum_per_output():
    # N = 1, K = 24 on 64 PEs: one output channel on each of PEs 0-23, none on PEs 24-63. Each output is one
    # partial sum, drained once: 24 accumulator reads on top of one read per accumulated product.
    rng = np.random.default_rng(6)
    layer = Layer(name="fc", op="linear", input=rng.standard_normal((1, 16)), weight=rng.standard_normal((24, 16)))
    result = run(layer)
    assert result.actions[("accumulator", "write")] == 16 * 24
    assert result.actions[("accumulator", "read")] == 16 * 24 + 24


def test_linear_layers_say_how_they_are_mapped():
    result = run(make("linear_n1"))
    assert any("output channels split over the PEs" in note for note in result.notes)
    assert any("2 batched weight matrices" in note for note in run(make("matmul_static")).notes)


# --- 6. archs SCNN cannot run on -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "overrides", "message"), [
    ("scnn", ["pe_array.macs_per_pe=8"], r"macs_per_pe \(8\) must equal dataflow weight_vector x activation_vector"),
    ("scnn", ["dataflow.weight_vector=2"], r"must equal dataflow weight_vector x activation_vector = 8"),
    ("scnn", ["dataflow.accumulator_banks=24"], "xor_fold needs accumulator_banks to be a power of two, got 24"),
    ("scnn", ["memory.iaram.instances=32"], "memory.iaram.instances is 32 but must be 64"),
    ("scnn", ["memory.oaram.instances=16"], "memory.oaram.instances is 16 but must be 64"),
    ("scnn", ["pe_array.rows=4"], "memory.iaram.instances is 64 but must be 32"),
    ("scnn", ["components.accumulator.size_bytes=2"], "at least one data.accumulator_bits partial sum"),
    ("dcnn", ["dataflow.position_vector=2"], r"must equal dataflow weight_vector x position_vector = 8"),
])
def test_bad_archs_fail_loudly(name, overrides, message):
    with pytest.raises(ArchError, match=message):
        load_arch(name, overrides)


def test_check_arch_accepts_what_it_should():
    load_arch("scnn", ["dataflow.accumulator_banks=24", "dataflow.bank_mapping=modulo"])  # modulo: any A
    load_arch("scnn", ["dataflow.weight_vector=2", "pe_array.macs_per_pe=8"])
    SCNN().check_arch(arch("scnn"))
    SCNN().check_arch(arch("dense"))


def test_a_region_beyond_the_accumulator_is_refused():
    # 64 x 64 plane: 8 x 8 tiles plus a 1-wide halo each side, 10 x 10 = 100 partial sums > 3 x 32 entries.
    layer = conv(np.random.default_rng(0), c=1, k=1, h=64, w=64, padding=1)
    with pytest.raises(ValueError, match="accumulator buffer"):
        run(layer, "scnn", "components.accumulator.size_bytes=9")


# --- 7. energy and actions -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", ["3x3_s2_p1", "grouped", "plane_19x17", "linear_n3", "matmul_static"])
def test_every_action_is_priced(name, variant):
    layer = make(name)
    a = arch(variant)
    result = SCNN().simulate(layer, a)
    energy = EnergyModel.for_arch(a).breakdown_pj(result.actions, result.cycles / a.clock_hz)
    assert all(np.isfinite(v) and v >= 0 for v in energy.values()) and energy["mac"] > 0
    useful = useful_products(layer, variant)
    if variant == "dense":
        assert ("scatter_crossbar", "transfer") not in counted(result.actions)
        assert ("output_coordinate", "compute") not in counted(result.actions)
    else:
        assert result.actions[("scatter_crossbar", "transfer")] == useful
        assert result.actions[("output_coordinate", "compute")] == result.macs_issued
    if variant == "scnn":
        assert useful == effectual_macs(layer)


def test_a_network_run_prices_scnn_against_dcnn():
    rng = np.random.default_rng(9)
    layers = (conv(rng, c=8, k=16, padding=1, wd=0.3, ad=0.4), linear(rng, 2, 16, 40, wd=0.3))
    result = simulate(Workload(layers=layers, provenance={"model": "test"}), arch("scnn"))
    assert result.dense_arch == "dcnn"
    for row in result.rows:
        assert row.dense_cycles > row.result.cycles  # 12% of the MACs are effectual
        assert row.energy_pj["mac"] > 0 and row.energy_pj["noc"] > 0


# --- 8. the kernels as plain Python ----------------------------------------------------------------------------------

PY_KERNELS = ("cartesian_product", "dense_product_counts", "bank_of_address", "bank_table",
              "output_coordinate")


def test_pure_python_kernels_agree_with_the_jitted(monkeypatch):
    # The project's convention (tests/test_*_jit.py): run the numba functions' `.py_func` beside the jitted ones (under
    # NUMBA_DISABLE_JIT=1 they are plain functions already). The kernels call each other through the module's
    # globals, so patching the module runs the whole walk in Python.
    cases = [(make("3x3_s2_p1"), v) for v in VARIANTS] + [(make("linear_n3"), "scnn"), (make("matmul_static"), "dense")]
    jitted = [(run(layer, v, compute_output=True), run(layer, v)) for layer, v in cases]
    for name in PY_KERNELS:
        function = getattr(kernel, name)
        monkeypatch.setattr(kernel, name, getattr(function, "py_func", function))
    for (layer, variant), expected in zip(cases, jitted, strict=True):
        got = (run(layer, variant, compute_output=True), run(layer, variant))
        for a, b in zip(got, expected, strict=True):
            assert a.cycles == b.cycles and dict(a.stall_cycles) == dict(b.stall_cycles)
            assert dict(a.actions) == dict(b.actions) and a.effectual_macs == b.effectual_macs
        np.testing.assert_allclose(got[0].output, reference_output(layer), rtol=1e-9, atol=1e-12)


# --- 9. spatial passes ----------------------------------------------------------------------------------------------

def test_a_plane_that_overflows_the_iaram_is_walked_in_strips():
    # 192 dense channels of 48 x 48: a PE's 6 x 6 tile holds 36 x 192 entries of 20 bits = 17 KB > 10 KB: two
    # strips of 24 rows, each walked, each under the IARAM; the output through the strips is the layer's.
    rng = np.random.default_rng(0)
    x = np.abs(rng.standard_normal((1, 192, 48, 48))) + 0.1
    layer = Layer("big", "conv2d", x, sparse(rng, (8, 192, 3, 3), 0.3), padding=1)
    result = run(layer, compute_output=True)
    assert result.metrics["temporal_passes"] == 2 and result.metrics["iaram_fill"] <= 1
    assert any("2 spatial passes (strips of rows, each walked on its own" in note for note in result.notes)
    np.testing.assert_allclose(result.output, reference_output(layer), atol=1e-9)
    # Each strip reads its inputs and writes its outputs through DRAM, and re-reads all the weights.
    assert result.actions[("dram", "write")] > 0


def test_strips_searched_over_several_cuts_add_each_product_once():
    # With 256-byte IARAM and OARAM the first guess of strips (from the whole plane's fill) is too few and more are
    # cut until every strip fits. Only the final strips may add into the output: before issue 20 every tried cut
    # was walked into the same array, and this layer's output came out three times the convolution.
    rng = np.random.default_rng(18)
    layer = conv(rng, n=2, c=24, k=16, h=48, w=20, stride=2, padding=1, ad=0.8)
    result = run(layer, "scnn", "memory.iaram.size_bytes=256", "memory.oaram.size_bytes=256", compute_output=True)
    assert result.metrics["temporal_passes"] == 6
    np.testing.assert_allclose(result.output, reference_output(layer), atol=1e-9)


@pytest.mark.parametrize("guess", [True, False])
@pytest.mark.parametrize("case", ["fits", "overflows", "fits_small_buffers"])
def test_the_guess_of_an_oaram_overflow_orders_the_walks_but_changes_no_result(monkeypatch, case, guess):
    # Values first (without the crossbar) then the crossbar walk or the strips, or the crossbar walk first: the same
    # result either way. "fits": nonnegative inputs, nonpositive weights, so no output survives the ReLU and the
    # OARAM stays empty although a dense input suggests an overflow.
    from accelsim.dataflows.scnn import dataflow as scnn_dataflow

    rng = np.random.default_rng(3)
    x = np.abs(rng.standard_normal((1, 16, 40, 40)))
    weight = sparse(rng, (24, 16, 3, 3), 0.5)
    weight = -np.abs(weight) if case.startswith("fits") else weight
    layer = Layer("c", "conv2d", x, weight, padding=1)
    # A PE's 5 x 5 tile x 24 channels x 20 bits = 1,500 bytes of dense outputs, about half of them positive.
    extra = () if case == "fits" else ("memory.oaram.size_bytes=512",)
    expected = run(layer, "scnn", *extra, compute_output=True)
    monkeypatch.setattr(scnn_dataflow, "_oaram_likely_overflows", lambda before, x: guess)
    got = run(layer, "scnn", *extra, compute_output=True)
    assert got.cycles == expected.cycles and dict(got.stall_cycles) == dict(expected.stall_cycles)
    assert dict(got.actions) == dict(expected.actions) and got.metrics == expected.metrics
    np.testing.assert_array_equal(got.output, expected.output)
    assert (got.metrics["temporal_passes"] > 1) == (case == "overflows")


def test_partial_sums_two_strips_feed_by_hand():
    from accelsim.dataflows.scnn.passes import boundary_partial_sums, strips

    # 4 output rows, 3 x 3, stride 1, padding 1: output p reads input rows p - 1 .. p + 1. Cut at input row 2: rows
    # 1 (0..2) and 2 (1..3) straddle it; x 5 columns x 3 channels x 2 images = 60.
    assert boundary_partial_sums(4, 5, 3, 2, [2], 1, 1, 3, 1) == 60
    assert strips(10, 3) == [(0, 4), (4, 8), (8, 10)]
