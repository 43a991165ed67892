"""The dense reference: outputs against torch (float64), effectual MACs against a brute-force loop."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.reference import effectual_macs, reference_output
from accelsim.workload import Layer

FAST = settings(max_examples=40, deadline=None)


def _sparse(rng, shape, density, dtype=np.float64):
    values = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return (values * (rng.random(shape) < density)).astype(dtype)


def _torch_output(layer):
    """The same layer computed by torch in float64: an implementation accelsim did not write."""
    x = torch.from_numpy(np.array(layer.input, dtype=np.float64))  # a writeable copy
    w = torch.from_numpy(np.array(layer.weight, dtype=np.float64))
    if layer.op == "conv2d":
        out = F.conv2d(x, w, stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                       groups=layer.groups)
    elif layer.op == "linear":
        out = F.linear(x, w)
    else:
        out = torch.matmul(x, w)
    return out.numpy()


def _brute_force_effectual(layer):
    """Walk every MAC of the layer one by one and count those whose two operands are both nonzero. A tap that
    falls in the zero padding reads a zero activation, so it is never effectual."""
    x, w = layer.input, layer.weight
    count = 0
    if layer.op == "linear":
        n_, c_ = x.shape
        for n in range(n_):
            for k in range(w.shape[0]):
                for c in range(c_):
                    count += bool(x[n, c] != 0 and w[k, c] != 0)
        return count
    if layer.op == "matmul":
        g_, n_, c_ = x.shape
        for g in range(g_):
            for n in range(n_):
                for k in range(w.shape[2]):
                    for c in range(c_):
                        count += bool(x[g, n, c] != 0 and w[g, c, k] != 0)
        return count
    n_, c_, h_, w_ = x.shape
    k_, c_per_group, r_, s_ = w.shape
    k_per_group = k_ // layer.groups
    (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation
    p_ = (h_ + 2 * ph - dh * (r_ - 1) - 1) // sh + 1
    q_ = (w_ + 2 * pw - dw * (s_ - 1) - 1) // sw + 1
    for n in range(n_):
        for k in range(k_):
            group = k // k_per_group
            for p in range(p_):
                for q in range(q_):
                    for c in range(c_per_group):
                        for r in range(r_):
                            for s in range(s_):
                                row, col = p * sh - ph + r * dh, q * sw - pw + s * dw
                                if 0 <= row < h_ and 0 <= col < w_:
                                    a = x[n, group * c_per_group + c, row, col]
                                    count += bool(a != 0 and w[k, c, r, s] != 0)
    return count


# --- outputs against torch ----------------------------------------------------------------------------------

def test_conv_output_by_hand():
    x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)  # [[0 1 2] [3 4 5] [6 7 8]]
    layer = Layer("c", "conv2d", x, np.ones((1, 1, 2, 2)))
    expected = np.array([[[[0 + 1 + 3 + 4, 1 + 2 + 4 + 5], [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]]]], dtype=np.float64)
    np.testing.assert_array_equal(reference_output(layer), expected)


def test_conv_output_with_padding_by_hand():
    x = np.ones((1, 1, 2, 2))
    layer = Layer("c", "conv2d", x, np.ones((1, 1, 3, 3)), padding=1)
    # every 3x3 window centred on a pixel of a 2x2 image of ones covers all four pixels
    np.testing.assert_array_equal(reference_output(layer), np.full((1, 1, 2, 2), 4.0))


def test_linear_and_matmul_output_by_hand():
    lin = Layer("l", "linear", np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]]))
    np.testing.assert_array_equal(reference_output(lin), [[1.0 - 3.0, 4.0]])
    mm = Layer("m", "matmul", np.array([[[1.0, 2.0]], [[3.0, 4.0]]]),
               np.array([[[1.0], [1.0]], [[0.0], [2.0]]]), weight_is_static=False)
    np.testing.assert_array_equal(reference_output(mm), [[[3.0]], [[8.0]]])


CONV_CASES = {
    "plain": dict(x=(1, 3, 6, 6), w=(4, 3, 3, 3)),
    "stride 2": dict(x=(1, 3, 7, 7), w=(4, 3, 3, 3), stride=2),
    "padding 1": dict(x=(2, 3, 5, 5), w=(4, 3, 3, 3), padding=1),
    "stride 2 padding 1": dict(x=(1, 4, 5, 5), w=(6, 4, 3, 3), stride=2, padding=1),
    "dilation 2": dict(x=(1, 2, 9, 9), w=(3, 2, 3, 3), dilation=2),
    "groups 2": dict(x=(2, 4, 6, 6), w=(6, 2, 3, 3), groups=2, padding=1),
    "groups 3 stride 2": dict(x=(1, 6, 8, 8), w=(9, 2, 3, 3), groups=3, stride=2, padding=1),
    "depthwise": dict(x=(2, 8, 6, 6), w=(8, 1, 3, 3), groups=8, padding=1),
    "depthwise multiplier 2": dict(x=(1, 4, 5, 5), w=(8, 1, 3, 3), groups=4, padding=1),
    "1x1 pointwise": dict(x=(3, 8, 4, 4), w=(5, 8, 1, 1)),
    "non-square kernel": dict(x=(1, 3, 7, 7), w=(4, 3, 1, 5), padding=(0, 2)),
    "non-square input": dict(x=(2, 3, 5, 11), w=(4, 3, 3, 3), padding=1),
    "everything non-square": dict(x=(2, 4, 9, 7), w=(6, 2, 3, 2), stride=(2, 1), padding=(1, 2),
                                  dilation=(1, 2), groups=2),
    "stride leaves a remainder": dict(x=(1, 2, 8, 10), w=(3, 2, 3, 3), stride=3),
    "7x7 stride 2 padding 3": dict(x=(1, 3, 16, 16), w=(8, 3, 7, 7), stride=2, padding=3),
    "filter the size of the input": dict(x=(2, 3, 4, 4), w=(5, 3, 4, 4)),
}


@pytest.mark.parametrize("case", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv_output_equals_torch(case):
    rng = np.random.default_rng(1)
    case = dict(case)
    x, w = _sparse(rng, case.pop("x"), 0.6), _sparse(rng, case.pop("w"), 0.4)
    layer = Layer("conv", "conv2d", x, w, **case)
    out = reference_output(layer)
    assert out.dtype == np.float64
    assert out.shape == layer.output_shape
    np.testing.assert_allclose(out, _torch_output(layer), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8])
def test_conv_output_of_low_precision_operands_is_float64_and_exact(dtype):
    rng = np.random.default_rng(2)
    x = (rng.integers(-3, 4, size=(2, 4, 6, 6))).astype(dtype)
    w = (rng.integers(-3, 4, size=(6, 2, 3, 3))).astype(dtype)
    layer = Layer("conv", "conv2d", x, w, groups=2, padding=1)
    out = reference_output(layer)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, _torch_output(layer))  # small integers: exact


def test_linear_output_equals_torch():
    rng = np.random.default_rng(3)
    layer = Layer("fc", "linear", _sparse(rng, (7, 20), 0.5, np.float32), _sparse(rng, (9, 20), 0.3, np.float32))
    out = reference_output(layer)
    assert out.dtype == np.float64 and out.shape == (7, 9)
    np.testing.assert_allclose(out, _torch_output(layer), rtol=1e-12, atol=1e-12)


def test_matmul_output_equals_torch_batched():
    rng = np.random.default_rng(4)
    layer = Layer("qk", "matmul", _sparse(rng, (6, 5, 8), 0.7), _sparse(rng, (6, 8, 4), 0.7),
                  weight_is_static=False)
    out = reference_output(layer)
    assert out.dtype == np.float64 and out.shape == (6, 5, 4)
    np.testing.assert_allclose(out, _torch_output(layer), rtol=1e-12, atol=1e-12)
    # each batch entry is its own product, not mixed with another's
    np.testing.assert_allclose(out[3], np.asarray(layer.input[3]) @ np.asarray(layer.weight[3]), rtol=1e-12)


@st.composite
def conv_layers(draw, max_c_per_group=3, max_k_per_group=3, max_extra=6):
    groups = draw(st.integers(1, 3))
    c = groups * draw(st.integers(1, max_c_per_group))
    k = groups * draw(st.integers(1, max_k_per_group))
    n = draw(st.integers(1, 2))
    r, s = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    # the smallest input the (dilated) filter fits once padded, plus some
    h = max(1, dilation[0] * (r - 1) + 1 - 2 * padding[0]) + draw(st.integers(0, max_extra))
    w = max(1, dilation[1] * (s - 1) + 1 - 2 * padding[1]) + draw(st.integers(0, max_extra))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = _sparse(rng, (n, c, h, w), draw(st.sampled_from([0.0, 0.3, 0.7, 1.0])))
    weight = _sparse(rng, (k, c // groups, r, s), draw(st.sampled_from([0.0, 0.2, 0.6, 1.0])))
    return Layer("conv", "conv2d", x, weight, stride=stride, padding=padding, dilation=dilation, groups=groups)


@FAST
@given(conv_layers())
def test_random_conv_output_equals_torch(layer):
    out = reference_output(layer)
    assert out.shape == layer.output_shape
    np.testing.assert_allclose(out, _torch_output(layer), rtol=1e-12, atol=1e-12)


# --- effectual MACs against a brute-force count --------------------------------------------------------------

def test_effectual_macs_dense_ones_with_padding_by_hand():
    # 3x3 image of ones, 3x3 filter of ones, padding 1: 9 outputs; corner windows hold 4 real pixels, edge
    # windows 6, the centre 9. The other taps read padding zeros and are not effectual.
    layer = Layer("c", "conv2d", np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), padding=1)
    assert layer.macs == 81
    assert effectual_macs(layer) == 4 * 4 + 4 * 6 + 9 == 49


def test_effectual_macs_linear_by_hand():
    x = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 5.0]])
    w = np.array([[3.0, 4.0, 0.0], [0.0, 1.0, 1.0]])
    # row 0 of x (c=0,2) x w row 0 (c=0,1): 1; x w row 1 (c=1,2): 1 -> 2; row 1 (c=2): 0 + 1 -> 1
    assert effectual_macs(Layer("l", "linear", x, w)) == 3


def test_effectual_macs_is_a_python_int():
    layer = Layer("c", "conv2d", np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), padding=1)
    assert type(effectual_macs(layer)) is int


@pytest.mark.parametrize("case", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_effectual_macs_conv_equals_brute_force(case):
    rng = np.random.default_rng(5)
    case = dict(case)
    x, w = _sparse(rng, case.pop("x"), 0.5), _sparse(rng, case.pop("w"), 0.5)
    layer = Layer("conv", "conv2d", x, w, **case)
    assert effectual_macs(layer) == _brute_force_effectual(layer)


@FAST
@given(conv_layers(max_c_per_group=2, max_k_per_group=2, max_extra=4))
def test_random_conv_effectual_macs_equals_brute_force(layer):
    assert effectual_macs(layer) == _brute_force_effectual(layer)


@FAST
@given(st.integers(1, 5), st.integers(1, 6), st.integers(1, 5), st.sampled_from([0.0, 0.3, 0.8, 1.0]),
       st.integers(0, 2**32 - 1))
def test_random_linear_effectual_macs_equals_brute_force(n, c, k, density, seed):
    rng = np.random.default_rng(seed)
    layer = Layer("fc", "linear", _sparse(rng, (n, c), density), _sparse(rng, (k, c), 1.0 - density / 2))
    assert effectual_macs(layer) == _brute_force_effectual(layer)


@FAST
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 4),
       st.sampled_from([0.0, 0.3, 0.8, 1.0]), st.integers(0, 2**32 - 1))
def test_random_matmul_effectual_macs_equals_brute_force(g, n, c, k, density, seed):
    rng = np.random.default_rng(seed)
    layer = Layer("av", "matmul", _sparse(rng, (g, n, c), density), _sparse(rng, (g, c, k), 0.5),
                  weight_is_static=False)
    assert effectual_macs(layer) == _brute_force_effectual(layer)


def test_effectual_macs_of_integer_operands():
    rng = np.random.default_rng(6)
    x = rng.integers(-1, 2, size=(2, 4, 5, 5)).astype(np.int8)  # about a third zeros
    w = rng.integers(-1, 2, size=(6, 2, 3, 3)).astype(np.int8)
    layer = Layer("conv", "conv2d", x, w, groups=2, stride=2, padding=1)
    assert effectual_macs(layer) == _brute_force_effectual(layer)


def test_effectual_macs_ignores_magnitudes():
    # operands whose products cancel or are tiny still count: effectual is about nonzero, not about the sum
    x = np.array([[1e-30, -1.0, 1.0]])
    w = np.array([[1e-30, 1.0, 1.0]])
    assert effectual_macs(Layer("l", "linear", x, w)) == 3


DENSE = {
    "conv stride groups dilation": lambda rng: Layer(
        "c", "conv2d", rng.uniform(1, 2, (2, 4, 9, 8)), rng.uniform(1, 2, (6, 2, 3, 2)), stride=(2, 1),
        dilation=(2, 1), groups=2),
    "depthwise": lambda rng: Layer(
        "d", "conv2d", rng.uniform(1, 2, (1, 8, 5, 5)), rng.uniform(-2, -1, (8, 1, 3, 3)), groups=8),
    "linear": lambda rng: Layer("l", "linear", rng.uniform(1, 2, (5, 7)), rng.uniform(1, 2, (3, 7))),
    "matmul": lambda rng: Layer("m", "matmul", rng.uniform(1, 2, (4, 6, 5)), rng.uniform(1, 2, (4, 5, 3)),
                                weight_is_static=False),
}


@pytest.mark.parametrize("make", DENSE.values(), ids=DENSE.keys())
def test_effectual_macs_of_dense_layer_without_padding_is_macs(make):
    layer = make(np.random.default_rng(7))
    assert effectual_macs(layer) == layer.macs


def test_effectual_macs_of_large_dense_conv_is_macs():
    layer = Layer("c", "conv2d", np.ones((2, 16, 14, 14), np.float32), np.ones((32, 16, 3, 3), np.float32),
                  stride=2)
    assert effectual_macs(layer) == layer.macs == 2 * 32 * 6 * 6 * 16 * 3 * 3


def test_effectual_macs_zero_when_an_operand_is_all_zero():
    assert effectual_macs(Layer("c", "conv2d", np.zeros((1, 3, 5, 5)), np.ones((4, 3, 3, 3)), padding=1)) == 0
    assert effectual_macs(Layer("l", "linear", np.ones((3, 4)), np.zeros((2, 4)))) == 0
