"""The IR every dataflow consumes: a `Layer` holds the real operands of one conv/linear/matmul, a `Workload` an
ordered list of them plus provenance. Zeros in the arrays are the sparsity; values are kept so that a dataflow can
compute the true output through its own schedule (see `accelsim.reference`).

Operand layouts follow torch, in the dimension alphabet of DESIGN.md:

| op       | input (activations)  | weight                     | output          |
|----------|----------------------|----------------------------|-----------------|
| conv2d   | (N, C, H, W)         | (K, C // groups, R, S)     | (N, K, P, Q)    |
| linear   | (N, C)               | (K, C)                     | (N, K)          |
| matmul   | (G, N, C)            | (G, C, K)                  | (G, N, K)       |

`linear` flattens every leading dimension of the activations into N (tokens x batch). `matmul` is a batched
product of two activations (attention's QK^T and AV): its "weight" is the right operand, and
`weight_is_static` says whether it is a parameter known before inference (False for attention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Op = Literal["conv2d", "linear", "matmul"]
OPS: tuple[str, ...] = ("conv2d", "linear", "matmul")


class WorkloadError(ValueError):
    """A layer or workload that is inconsistent: the message names the layer (and file) and what is allowed."""


def _is_int(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _pair(value: int | tuple[int, int], what: str, layer_name: str) -> tuple[int, int]:
    if _is_int(value):
        pair = (value, value)
    elif isinstance(value, tuple | list):
        pair = tuple(value)
    else:
        pair = ()
    if len(pair) != 2 or not all(_is_int(v) for v in pair):
        raise WorkloadError(f"layer {layer_name!r}: {what} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


@dataclass(frozen=True, eq=False)
class Layer:
    """One compute layer with its actual operands. Frozen; arrays are made read-only on construction."""

    name: str
    op: Op
    input: np.ndarray
    weight: np.ndarray
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    weight_is_static: bool = True
    """False when the right operand is itself an activation (attention's K^T and V): no offline compression."""

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise WorkloadError(f"layer {self.name!r}: op {self.op!r} is not one of {', '.join(OPS)}")
        for attr in ("stride", "padding", "dilation"):
            object.__setattr__(self, attr, _pair(getattr(self, attr), attr, self.name))
        if not _is_int(self.groups):
            raise WorkloadError(f"layer {self.name!r}: groups must be an int, got {self.groups!r}")
        object.__setattr__(self, "groups", int(self.groups))
        for attr in ("input", "weight"):
            array = np.asarray(getattr(self, attr))
            if array.dtype.kind not in "fiu":
                raise WorkloadError(f"layer {self.name!r}: {attr} must be numeric, got dtype {array.dtype}")
            array = array.view()  # a read-only view: the caller's array stays theirs
            array.flags.writeable = False
            object.__setattr__(self, attr, array)
        _check_shapes(self)

    # --- dimensions -----------------------------------------------------------------------------------------
    @property
    def dims(self) -> dict[str, int]:
        """Loop bounds in one alphabet: N, C, K, R, S, P, Q, H, W and G (groups, or matmul batch)."""
        if self.op == "conv2d":
            n, c, h, w = self.input.shape
            k, _, r, s = self.weight.shape
            p, q = conv_output_size(h, w, r, s, self.stride, self.padding, self.dilation)
            return dict(N=n, C=c, K=k, R=r, S=s, P=p, Q=q, H=h, W=w, G=self.groups)
        if self.op == "linear":
            n, c = self.input.shape
            return dict(N=n, C=c, K=self.weight.shape[0], R=1, S=1, P=1, Q=1, H=1, W=1, G=1)
        g, n, c = self.input.shape
        return dict(N=n, C=c, K=self.weight.shape[2], R=1, S=1, P=1, Q=1, H=1, W=1, G=g)

    @property
    def output_shape(self) -> tuple[int, ...]:
        d = self.dims
        if self.op == "conv2d":
            return (d["N"], d["K"], d["P"], d["Q"])
        if self.op == "linear":
            return (d["N"], d["K"])
        return (d["G"], d["N"], d["K"])

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the dense layer."""
        d = self.dims
        if self.op == "conv2d":
            return d["N"] * d["K"] * d["P"] * d["Q"] * (d["C"] // d["G"]) * d["R"] * d["S"]
        return d["G"] * d["N"] * d["K"] * d["C"]

    @property
    def weight_density(self) -> float:
        return float(np.count_nonzero(self.weight)) / self.weight.size

    @property
    def input_density(self) -> float:
        return float(np.count_nonzero(self.input)) / self.input.size

    @property
    def shape_text(self) -> str:
        """Compact human-readable shape, e.g. 'C64 K128 3x3/2 56x56->28x28' for a conv."""
        d = self.dims
        if self.op == "conv2d":
            group = f" g{d['G']}" if d["G"] > 1 else ""
            stride = "" if self.stride == (1, 1) else f"/{self.stride[0]}" if self.stride[0] == self.stride[1] \
                else f"/{self.stride[0]}x{self.stride[1]}"
            return (f"N{d['N']} C{d['C']} K{d['K']} {d['R']}x{d['S']}{stride}{group} "
                    f"{d['H']}x{d['W']}->{d['P']}x{d['Q']}")
        if self.op == "linear":
            return f"N{d['N']} C{d['C']} K{d['K']}"
        return f"G{d['G']} N{d['N']} C{d['C']} K{d['K']}"


def conv_output_size(h: int, w: int, r: int, s: int, stride: tuple[int, int], padding: tuple[int, int],
                     dilation: tuple[int, int]) -> tuple[int, int]:
    """Output plane size of a convolution, torch's formula (floor)."""
    p = (h + 2 * padding[0] - dilation[0] * (r - 1) - 1) // stride[0] + 1
    q = (w + 2 * padding[1] - dilation[1] * (s - 1) - 1) // stride[1] + 1
    return p, q


def scalesim_conv_output_size(h: int, w: int, r: int, s: int, stride: tuple[int, int], padding: tuple[int, int],
                              dilation: tuple[int, int]) -> tuple[int, int]:
    """Output plane size as SCALE-Sim counts it: ceil((size - reach + stride) / stride) over the padded input,
    one more than `conv_output_size` where the stride does not divide size - reach (a last window past the edge)."""
    sizes = []
    for size, tap, pad, dil, step in zip((h, w), (r, s), padding, dilation, stride, strict=True):
        reach = dil * (tap - 1) + 1
        sizes.append(-(-(size + 2 * pad - reach + step) // step))
    return sizes[0], sizes[1]


def _check_shapes(layer: Layer) -> None:
    def fail(message: str) -> None:
        raise WorkloadError(f"layer {layer.name!r} ({layer.op}): {message}; input {layer.input.shape}, "
                            f"weight {layer.weight.shape}")

    expected_ndim = {"conv2d": (4, 4), "linear": (2, 2), "matmul": (3, 3)}[layer.op]
    if (layer.input.ndim, layer.weight.ndim) != expected_ndim:
        fail(f"expects input and weight of {expected_ndim[0]} and {expected_ndim[1]} dimensions "
             "(see accelsim.workload for the layouts)")
    if min(layer.input.shape + layer.weight.shape) <= 0:
        fail("every dimension must be at least 1")
    if min(layer.stride + layer.dilation) < 1 or min(layer.padding) < 0 or layer.groups < 1:
        fail(f"stride and dilation must be >= 1, padding >= 0, groups >= 1 (got stride {layer.stride}, "
             f"padding {layer.padding}, dilation {layer.dilation}, groups {layer.groups})")
    if layer.op == "conv2d":
        c, k, g = layer.input.shape[1], layer.weight.shape[0], layer.groups
        if c % g or k % g or layer.weight.shape[1] != c // g:
            fail(f"with groups={g}, C and K must divide by groups and weight.shape[1] must be C // groups")
        p, q = conv_output_size(*layer.input.shape[2:], *layer.weight.shape[2:], layer.stride, layer.padding,
                                layer.dilation)
        if p < 1 or q < 1:
            fail(f"the filter does not fit the padded input (output would be {p}x{q})")
    elif layer.op == "linear":
        if layer.input.shape[1] != layer.weight.shape[1]:
            fail("input.shape[1] (C) must equal weight.shape[1]")
    elif layer.input.shape[0] != layer.weight.shape[0] or layer.input.shape[2] != layer.weight.shape[1]:
        fail("needs input (G, N, C) and weight (G, C, K) with matching G and C")
    if layer.op != "conv2d" and (layer.groups != 1 or layer.stride != (1, 1) or layer.padding != (0, 0)
                                 or layer.dilation != (1, 1)):
        fail("stride, padding, dilation and groups apply to conv2d only")


@dataclass(frozen=True, eq=False)
class Workload:
    """Ordered layers plus provenance (model, pruning scheme, seed, input, accelsim version, ...)."""

    layers: tuple[Layer, ...]
    provenance: dict = field(default_factory=dict)
    not_lowered: tuple[dict, ...] = ()
    """Operations seen but not lowered, each {"name", "op", "reason"}: reported, never dropped quietly."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        names = [layer.name for layer in self.layers]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise WorkloadError(f"layer names must be unique; repeated: {', '.join(duplicated)}")

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, key: int | str) -> Layer:
        if isinstance(key, str):
            for layer in self.layers:
                if layer.name == key:
                    return layer
            raise KeyError(f"no layer named {key!r}; layers: {', '.join(layer.name for layer in self.layers)}")
        return self.layers[key]

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def weight_density(self) -> float:
        """Nonzero fraction over the static weights of all layers (attention's dynamic operands excluded)."""
        static = [layer.weight for layer in self.layers if layer.weight_is_static]
        total = sum(w.size for w in static)
        return sum(int(np.count_nonzero(w)) for w in static) / total if total else math.nan
