"""The IR: Layer dimensions and MAC counts by hand, validation at construction, and Workload bookkeeping."""

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from accelsim.workload import Layer, Workload, WorkloadError, conv_output_size

NAME = "blk3.odd_name"  # distinctive, so that an error message naming the layer is easy to check


def _conv(n=1, c=4, k=6, h=5, w=5, r=3, s=3, groups=1, name=NAME, **kwargs):
    return Layer(name, "conv2d", np.ones((n, c, h, w), np.float32), np.ones((k, c // groups, r, s), np.float32),
                 groups=groups, **kwargs)


def _linear(n=5, c=7, k=3, name=NAME, **kwargs):
    return Layer(name, "linear", np.ones((n, c)), np.ones((k, c)), **kwargs)


def _matmul(g=4, n=6, c=5, k=3, name=NAME, **kwargs):
    return Layer(name, "matmul", np.ones((g, n, c)), np.ones((g, c, k)), **kwargs)


# --- dimensions, output shapes and MACs, by hand ---------------------------------------------------------------

def test_conv_stride_padding_dims_by_hand():
    layer = _conv(n=1, c=4, k=6, h=5, w=5, r=3, s=3, stride=2, padding=1)
    # P = (5 + 2*1 - 3) // 2 + 1 = 3
    assert layer.dims == dict(N=1, C=4, K=6, R=3, S=3, P=3, Q=3, H=5, W=5, G=1)
    assert layer.output_shape == (1, 6, 3, 3)
    assert layer.macs == 1 * 6 * 3 * 3 * 4 * 3 * 3 == 1944
    assert layer.stride == (2, 2) and layer.padding == (1, 1) and layer.dilation == (1, 1)


def test_conv_non_square_everything_by_hand():
    layer = _conv(n=2, c=3, k=5, h=7, w=9, r=3, s=2, stride=(2, 3), padding=(1, 0), dilation=(1, 2))
    # P = (7 + 2 - 1*(3-1) - 1) // 2 + 1 = 4;  Q = (9 + 0 - 2*(2-1) - 1) // 3 + 1 = 3
    assert (layer.dims["P"], layer.dims["Q"]) == (4, 3)
    assert layer.output_shape == (2, 5, 4, 3)
    assert layer.macs == 2 * 5 * 4 * 3 * 3 * 3 * 2 == 2160


def test_grouped_conv_macs_divide_by_groups():
    grouped = _conv(n=1, c=8, k=12, h=6, w=6, r=3, s=3, groups=4, padding=1)
    dense = _conv(n=1, c=8, k=12, h=6, w=6, r=3, s=3, groups=1, padding=1)
    assert grouped.dims["G"] == 4 and grouped.dims["C"] == 8
    assert grouped.output_shape == (1, 12, 6, 6)
    assert grouped.macs == 12 * 6 * 6 * (8 // 4) * 3 * 3 == 7776
    assert dense.macs == 12 * 6 * 6 * 8 * 3 * 3 == 4 * grouped.macs


def test_depthwise_conv_macs():
    layer = _conv(n=2, c=8, k=8, h=4, w=4, r=3, s=3, groups=8, padding=1)
    assert layer.output_shape == (2, 8, 4, 4)
    assert layer.macs == 2 * 8 * 4 * 4 * 1 * 3 * 3 == 2304


def test_conv_dilation_shrinks_output():
    layer = _conv(h=7, w=7, r=3, s=3, dilation=2)  # effective filter 5x5: P = 7 - 5 + 1 = 3
    assert layer.output_shape == (1, 6, 3, 3)
    assert layer.macs == 6 * 3 * 3 * 4 * 3 * 3


def test_conv_floor_division_of_output():
    layer = _conv(h=6, w=8, r=3, s=3, stride=2)  # P = (6-3)//2+1 = 2, Q = (8-3)//2+1 = 3
    assert layer.output_shape == (1, 6, 2, 3)


def test_linear_dims_and_macs():
    layer = _linear(n=5, c=7, k=3)
    assert layer.dims == dict(N=5, C=7, K=3, R=1, S=1, P=1, Q=1, H=1, W=1, G=1)
    assert layer.output_shape == (5, 3)
    assert layer.macs == 5 * 7 * 3 == 105


def test_matmul_dims_and_macs():
    layer = _matmul(g=4, n=6, c=5, k=3)
    assert layer.dims["G"] == 4 and (layer.dims["N"], layer.dims["C"], layer.dims["K"]) == (6, 5, 3)
    assert layer.output_shape == (4, 6, 3)
    assert layer.macs == 4 * 6 * 3 * 5 == 360


@pytest.mark.parametrize(("h", "w", "r", "s", "stride", "padding", "dilation", "expected"), [
    (5, 5, 3, 3, (1, 1), (0, 0), (1, 1), (3, 3)),
    (5, 5, 3, 3, (2, 2), (1, 1), (1, 1), (3, 3)),
    (224, 224, 7, 7, (2, 2), (3, 3), (1, 1), (112, 112)),
    (56, 56, 3, 3, (2, 2), (1, 1), (1, 1), (28, 28)),
    (7, 9, 3, 2, (2, 3), (1, 0), (1, 2), (4, 3)),
    (7, 7, 3, 3, (1, 1), (0, 0), (3, 3), (1, 1)),
    (4, 4, 1, 1, (3, 3), (0, 0), (1, 1), (2, 2)),
])
def test_conv_output_size_by_hand(h, w, r, s, stride, padding, dilation, expected):
    assert conv_output_size(h, w, r, s, stride, padding, dilation) == expected


def test_conv_output_size_agrees_with_torch():
    for h, w, r, s, stride, padding, dilation in [
        (5, 6, 3, 2, (1, 2), (1, 0), (1, 1)),
        (9, 4, 2, 3, (3, 1), (0, 2), (2, 1)),
        (8, 8, 5, 5, (2, 2), (2, 2), (1, 1)),
        (10, 11, 3, 3, (4, 3), (1, 1), (2, 3)),
    ]:
        out = F.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, r, s), stride=stride, padding=padding,
                       dilation=dilation)
        assert conv_output_size(h, w, r, s, stride, padding, dilation) == tuple(out.shape[2:])


# --- validation ---------------------------------------------------------------------------------------------

def _f(*shape):
    return np.ones(shape, np.float32)


INVALID = {
    "conv input 3-d": lambda: Layer(NAME, "conv2d", _f(4, 5, 5), _f(6, 4, 3, 3)),
    "conv weight 2-d": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4)),
    "linear weight 3-d": lambda: Layer(NAME, "linear", _f(5, 7), _f(3, 7, 1)),
    "linear input 4-d": lambda: Layer(NAME, "linear", _f(1, 5, 7, 1), _f(3, 7)),
    "matmul input 2-d": lambda: Layer(NAME, "matmul", _f(6, 5), _f(4, 5, 3)),
    "conv C mismatch": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 3, 3, 3)),
    "linear C mismatch": lambda: Layer(NAME, "linear", _f(5, 7), _f(3, 6)),
    "matmul C mismatch": lambda: Layer(NAME, "matmul", _f(4, 6, 5), _f(4, 4, 3)),
    "matmul G mismatch": lambda: Layer(NAME, "matmul", _f(4, 6, 5), _f(2, 5, 3)),
    "groups do not divide C": lambda: Layer(NAME, "conv2d", _f(1, 6, 5, 5), _f(8, 1, 3, 3), groups=4),
    "groups do not divide K": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 1, 3, 3), groups=4),
    "weight C is not C // groups": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3), groups=2),
    "groups 0": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3), groups=0),
    "filter bigger than input": lambda: Layer(NAME, "conv2d", _f(1, 4, 3, 3), _f(6, 4, 5, 5)),
    "filter bigger than padded input": lambda: Layer(NAME, "conv2d", _f(1, 4, 3, 3), _f(6, 4, 7, 7), padding=1),
    "dilated filter bigger than input": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3),
                                                      dilation=3),
    "filter bigger in one axis only": lambda: Layer(NAME, "conv2d", _f(1, 4, 8, 2), _f(6, 4, 3, 3)),
    "negative padding": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3), padding=-1),
    "negative padding in one axis": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3),
                                                  padding=(1, -1)),
    "stride 0": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3), stride=0),
    "stride 0 in one axis": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3), stride=(1, 0)),
    "negative stride": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3), stride=-1),
    "dilation 0": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3), dilation=0),
    "stride of three values": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3), stride=(1, 1, 1)),
    "stride as a string": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3), stride="2"),
    "stride as a float": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 4, 3, 3), stride=1.5),
    "groups as a float": lambda: Layer(NAME, "conv2d", _f(1, 4, 5, 5), _f(6, 2, 3, 3), groups=2.0),
    "zero-sized dimension": lambda: Layer(NAME, "linear", _f(0, 7), _f(3, 7)),
    "string input": lambda: Layer(NAME, "linear", np.full((5, 7), "a"), _f(3, 7)),
    "object weight": lambda: Layer(NAME, "linear", _f(5, 7), np.full((3, 7), None, dtype=object)),
    "stride on linear": lambda: Layer(NAME, "linear", _f(5, 7), _f(3, 7), stride=2),
    "padding on linear": lambda: Layer(NAME, "linear", _f(5, 7), _f(3, 7), padding=1),
    "groups on linear": lambda: Layer(NAME, "linear", _f(5, 7), _f(3, 7), groups=7),
    "stride on matmul": lambda: Layer(NAME, "matmul", _f(4, 6, 5), _f(4, 5, 3), stride=(1, 2)),
    "dilation on linear": lambda: Layer(NAME, "linear", _f(5, 7), _f(3, 7), dilation=2),
    "unknown op": lambda: Layer(NAME, "conv3d", _f(1, 4, 5, 5), _f(6, 4, 3, 3)),
    "op in capitals": lambda: Layer(NAME, "Linear", _f(5, 7), _f(3, 7)),
}


@pytest.mark.parametrize("make", INVALID.values(), ids=INVALID.keys())
def test_invalid_layer_raises_workload_error_naming_the_layer(make):
    with pytest.raises(WorkloadError) as excinfo:
        make()
    assert NAME in str(excinfo.value)


def test_workload_error_is_a_value_error():
    assert issubclass(WorkloadError, ValueError)


def test_error_messages_say_what_is_allowed():
    with pytest.raises(WorkloadError, match="conv2d, linear, matmul"):
        Layer(NAME, "conv3d", _f(1, 4, 5, 5), _f(6, 4, 3, 3))
    with pytest.raises(WorkloadError, match=r"groups"):
        Layer(NAME, "conv2d", _f(1, 6, 5, 5), _f(8, 1, 3, 3), groups=4)
    with pytest.raises(WorkloadError, match="numeric"):
        Layer(NAME, "linear", np.full((5, 7), "a"), _f(3, 7))
    with pytest.raises(WorkloadError, match="conv2d only"):
        Layer(NAME, "linear", _f(5, 7), _f(3, 7), stride=2)


def test_smallest_valid_layers_are_accepted():
    # filter exactly the size of the (padded) input: a 1x1 output, not an error
    assert _conv(h=3, w=3, r=3, s=3).output_shape == (1, 6, 1, 1)
    assert _conv(h=1, w=1, r=3, s=3, padding=1).output_shape == (1, 6, 1, 1)
    assert _linear(n=1, c=1, k=1).macs == 1
    assert _matmul(g=1, n=1, c=1, k=1).macs == 1


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int32, np.uint8])
def test_numeric_dtypes_are_kept(dtype):
    layer = Layer(NAME, "linear", np.ones((2, 3), dtype), np.ones((4, 3), dtype))
    assert layer.input.dtype == dtype and layer.weight.dtype == dtype


def test_lists_are_accepted_as_arrays():
    layer = Layer(NAME, "linear", [[1.0, 0.0, 2.0]], [[1.0, 1.0, 1.0], [0.0, 0.0, 3.0]])
    assert isinstance(layer.input, np.ndarray) and layer.output_shape == (1, 2)


def test_numpy_integer_stride_and_padding_are_plain_int_pairs():
    layer = _conv(stride=np.int64(2), padding=(np.int32(1), np.int64(1)))
    assert layer.stride == (2, 2) and layer.padding == (1, 1)
    assert all(type(v) is int for v in layer.stride + layer.padding)


# --- immutability -------------------------------------------------------------------------------------------

def test_arrays_are_read_only():
    x, w = np.ones((5, 7)), np.ones((3, 7))
    layer = Layer(NAME, "linear", x, w)
    assert not layer.input.flags.writeable and not layer.weight.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        layer.input[0, 0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        layer.weight[...] = 0.0
    assert np.all(layer.input == 1.0) and np.all(layer.weight == 1.0)


def test_callers_array_stays_writeable():
    x = np.ones((5, 7))
    Layer(NAME, "linear", x, np.ones((3, 7)))
    assert x.flags.writeable
    x[0, 0] = 2.0  # must not raise


def test_layer_is_frozen():
    layer = _linear()
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.name = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.input = np.zeros((5, 7))


# --- densities and text -------------------------------------------------------------------------------------

def test_densities_count_nonzeros():
    x = np.zeros((4, 5))
    x[0, :] = 1.0
    x[3, 2] = -2.0  # 6 of 20 nonzero
    w = np.zeros((2, 5))
    w[1, 4] = 0.5  # 1 of 10 nonzero
    layer = Layer(NAME, "linear", x, w)
    assert layer.input_density == pytest.approx(6 / 20)
    assert layer.weight_density == pytest.approx(1 / 10)


def test_densities_of_dense_and_empty_operands():
    layer = Layer(NAME, "conv2d", np.zeros((1, 2, 4, 4)), np.ones((3, 2, 3, 3)))
    assert layer.input_density == 0.0
    assert layer.weight_density == 1.0


def test_shape_text_conv_matches_docstring_example():
    layer = Layer(NAME, "conv2d", np.zeros((1, 64, 56, 56), np.int8), np.zeros((128, 64, 3, 3), np.int8),
                  stride=2, padding=1)
    assert "C64 K128 3x3/2 56x56->28x28" in layer.shape_text


def test_shape_text_conv_without_stride_or_groups():
    text = _conv(c=4, k=6, h=5, w=5, padding=1).shape_text
    assert "C4 K6 3x3 5x5->5x5" in text
    assert "/" not in text and " g" not in text


def test_shape_text_names_groups():
    text = _conv(c=8, k=8, h=4, w=4, groups=8, padding=1).shape_text
    assert "g8" in text and "C8 K8" in text


def test_shape_text_non_square_stride_shows_the_stride_that_is_not_one():
    # Stride (1, 2): a text that says "/1" hides the stride entirely.
    text = _conv(c=4, k=6, h=5, w=5, stride=(1, 2)).shape_text
    assert "5x5->3x2" in text
    assert "2" in text.split("3x3", 1)[1].split(" ", 1)[0], text


def test_shape_text_linear_and_matmul():
    assert _linear(n=5, c=7, k=3).shape_text == "N5 C7 K3"
    text = _matmul(g=4, n=6, c=5, k=3).shape_text
    assert all(part in text for part in ("G4", "N6", "C5", "K3"))


# --- Workload -----------------------------------------------------------------------------------------------

def test_workload_keeps_order_and_is_indexable():
    layers = [_linear(name="fc1"), _conv(name="conv1"), _matmul(name="qk")]
    workload = Workload(layers)
    assert isinstance(workload.layers, tuple)
    assert len(workload) == 3
    assert [layer.name for layer in workload] == ["fc1", "conv1", "qk"]
    assert workload[0] is layers[0] and workload[-1] is layers[2]
    assert workload["conv1"] is layers[1]


def test_workload_duplicate_names_are_refused():
    with pytest.raises(WorkloadError, match="conv1"):
        Workload((_conv(name="conv1"), _linear(name="fc"), _linear(name="conv1")))


def test_workload_unknown_name_is_a_helpful_key_error():
    workload = Workload((_conv(name="conv1"), _linear(name="fc")))
    with pytest.raises(KeyError) as excinfo:
        workload["conv2"]
    message = excinfo.value.args[0]
    assert "conv2" in message and "conv1" in message and "fc" in message


def test_workload_macs_is_the_sum():
    workload = Workload((_conv(name="c", stride=2, padding=1), _linear(name="l"), _matmul(name="m")))
    assert workload.macs == 1944 + 105 + 360


def test_workload_weight_density_counts_static_weights_only():
    w1 = np.zeros((2, 5))
    w1[0, :] = 3.0  # 5 of 10
    w2 = np.ones((3, 2))  # 6 of 6
    static1 = Layer("a", "linear", np.ones((1, 5)), w1)
    static2 = Layer("b", "linear", np.ones((1, 2)), w2)
    dynamic = Layer("qk", "matmul", np.ones((2, 3, 4)), np.zeros((2, 4, 8)), weight_is_static=False)
    workload = Workload((static1, dynamic, static2))
    assert workload.weight_density == pytest.approx(11 / 16)  # pooled over elements, not averaged per layer


def test_workload_weight_density_without_static_weights_is_nan():
    dynamic = Layer("qk", "matmul", np.ones((2, 3, 4)), np.ones((2, 4, 8)), weight_is_static=False)
    assert math.isnan(Workload((dynamic,)).weight_density)
    assert math.isnan(Workload(()).weight_density)


def test_workload_defaults_are_not_shared():
    a, b = Workload(()), Workload(())
    assert a.provenance == {} and a.not_lowered == ()
    a.provenance["model"] = "x"
    assert b.provenance == {}
