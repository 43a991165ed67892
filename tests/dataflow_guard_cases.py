"""The layers and archs of the refactoring guard of SCNN, DCNN and the systolic array (tests/test_dataflow_guard.py,
tests/data/make_dataflow_guard.py): seeded random layers of varied shapes, each run on every variant, reduced to
the figures a result carries (cycles, stalls by cause, action counts, metrics, notes, a hash of the computed
output). Shared by the generator and the test, so that both build the very same layers."""

from __future__ import annotations

import hashlib

import numpy as np

from accelsim.arch_configs import load_arch
from accelsim.dataflows.catalog import get_dataflow
from accelsim.workload import Layer

# (arch name, --set overrides) by variant name: every kernel path of the three dataflows.
ARCHS: dict[str, tuple[str, tuple[str, ...]]] = {
    "scnn": ("scnn", ()),
    "scnn-modulo-queue1": ("scnn", ("dataflow.bank_mapping=modulo", "dataflow.crossbar_queue_depth=1")),
    "scnn-no-phases": ("scnn", ("dataflow.stride_phases=false",)),
    "scnn-sparse-w": ("scnn", ("dataflow.skip_zero_activations=false",)),
    "scnn-sparse-a": ("scnn", ("dataflow.skip_zero_weights=false",)),
    "scnn-dense": ("scnn", ("dataflow.skip_zero_weights=false", "dataflow.skip_zero_activations=false",
                            "dataflow.scatter_crossbar=false")),
    "scnn-small-buffers": ("scnn", ("memory.iaram.size_bytes=256", "memory.oaram.size_bytes=256")),
    "scnn-small-accumulator": ("scnn", ("components.accumulator.size_bytes=12",)),
    "scnn-6x5-f2i8": ("scnn", ("pe_array.rows=6", "pe_array.cols=5", "dataflow.weight_vector=2",
                               "dataflow.activation_vector=8", "memory.iaram.instances=30",
                               "memory.oaram.instances=30")),
    "dcnn": ("dcnn", ()),
    "dcnn-small-buffers": ("dcnn", ("memory.iaram.size_bytes=256", "memory.oaram.size_bytes=256")),
    "dcnn-6x5-f2i8": ("dcnn", ("pe_array.rows=6", "pe_array.cols=5", "dataflow.weight_vector=2",
                               "dataflow.position_vector=8", "memory.iaram.instances=30",
                               "memory.oaram.instances=30")),
    "systolic-ws": ("systolic-32x32-ws", ()),
    "systolic-os-8x4": ("systolic-32x32-os", ("pe_array.rows=8", "pe_array.cols=4")),
    "systolic-is-4x8": ("systolic-32x32-is", ("pe_array.rows=4", "pe_array.cols=8")),
    "systolic-ws-nm24": ("systolic-32x32-ws-nm24", ()),
    "systolic-ws-detect-8x8": ("systolic-32x32-ws", ("dataflow.nm=detect", "pe_array.rows=8", "pe_array.cols=8")),
}


def _sparse(rng: np.random.Generator, shape, density: float) -> np.ndarray:
    return rng.standard_normal(shape) * (rng.random(shape) < density)


def _conv(seed: int, n=1, c=8, k=12, h=12, w=12, r=3, s=3, wd=0.4, ad=0.5, **kwargs) -> tuple:
    rng = np.random.default_rng(seed)
    g = kwargs.get("groups", 1)
    return "conv2d", _sparse(rng, (n, c, h, w), ad), _sparse(rng, (k, c // g, r, s), wd), kwargs


def _nm24_conv(seed: int) -> tuple:
    """2:4 along (r, s, c) with C a multiple of 4: two nonzeros kept in every four consecutive input channels."""
    op, x, weight, kwargs = _conv(seed, c=8, k=20, h=9, w=9, wd=1.0, ad=0.6, padding=1)
    scores = np.random.default_rng(seed + 1).random(weight.shape).reshape(20, 2, 4, 3, 3)
    keep = scores >= np.sort(scores, axis=2)[:, :, 2:3]  # the two largest of each four channels
    return op, x, weight * keep.reshape(weight.shape), kwargs


def _dense_operands(seed: int, op: str, x_shape, w_shape, **kwargs) -> tuple:
    rng = np.random.default_rng(seed)
    return op, _sparse(rng, x_shape, 0.7), _sparse(rng, w_shape, 0.5), kwargs


LAYERS = {
    "conv3x3_s1_p1": lambda: _conv(1, c=16, k=32, h=14, w=14, padding=1),
    "conv3x3_s2_p1_batch2": lambda: _conv(2, n=2, c=8, k=20, h=15, w=13, stride=2, padding=1),
    "conv1x1": lambda: _conv(3, c=32, k=48, h=7, w=7, r=1, s=1, wd=0.3),
    "conv1x1_s2": lambda: _conv(4, c=24, k=40, h=14, w=14, r=1, s=1, stride=2),
    "conv7x7_s2_p3": lambda: _conv(5, c=3, k=16, h=30, w=30, r=7, s=7, stride=2, padding=3, ad=0.9),
    "conv11x11_s4_p2": lambda: _conv(6, c=3, k=12, h=39, w=39, r=11, s=11, stride=4, padding=2, ad=0.95),
    "depthwise3x3_s1": lambda: _conv(7, c=16, k=16, h=12, w=12, groups=16, padding=1, wd=0.7),
    "depthwise3x3_s2": lambda: _conv(8, c=12, k=12, h=13, w=13, groups=12, stride=2, padding=1, wd=0.7),
    "grouped_g4": lambda: _conv(9, c=16, k=32, h=10, w=10, groups=4, padding=1),
    "dilated3x3_d2": lambda: _conv(10, c=8, k=8, h=12, w=12, padding=2, dilation=2),
    "odd5x3_s2x1": lambda: _conv(11, c=5, k=7, h=11, w=9, r=5, s=3, stride=(2, 1), padding=(2, 1)),
    "wide_plane": lambda: _conv(12, c=12, k=16, h=40, w=36, padding=1, wd=0.3, ad=0.6),
    "tall_plane_s2_batch2": lambda: _conv(18, n=2, c=24, k=16, h=48, w=20, stride=2, padding=1, ad=0.8),
    "nm24_conv": lambda: _nm24_conv(13),
    "linear_n1": lambda: _dense_operands(14, "linear", (1, 256), (100, 256)),
    "linear_n4": lambda: _dense_operands(15, "linear", (4, 200), (130, 200)),
    "static_matmul": lambda: _dense_operands(16, "matmul", (2, 3, 40), (2, 40, 24)),
    "dynamic_matmul": lambda: _dense_operands(17, "matmul", (2, 5, 16), (2, 16, 8), weight_is_static=False),
}


def layer(name: str) -> Layer:
    op, x, weight, kwargs = LAYERS[name]()
    return Layer(name=name, op=op, input=x, weight=weight, **kwargs)


def arch(variant: str):
    name, overrides = ARCHS[variant]
    return load_arch(name, list(overrides))


def output_sha256(output: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(output, dtype=np.float64).tobytes()).hexdigest()


def record(layer_: Layer, arch_, compute_output: bool = True) -> dict:
    """Everything a result carries, as JSON-ready values; a refused layer records its error."""
    dataflow = get_dataflow(arch_.dataflow.kind)()
    try:
        result = dataflow.simulate(layer_, arch_, compute_output=compute_output)
    except ValueError as error:
        return {"error": f"{type(error).__name__}: {error}"}
    out = {
        "cycles": result.cycles, "macs": result.macs, "macs_issued": result.macs_issued,
        "effectual_macs": result.effectual_macs, "multipliers": result.multipliers,
        "stall_cycles": dict(result.stall_cycles), "actions": result.actions.as_flat_dict(),
        "metrics": {key: float(value) for key, value in result.metrics.items()}, "notes": list(result.notes),
        "hideable_first_fetch_cycles": result.hideable_first_fetch_cycles,
        "prefetch_window_cycles": result.prefetch_window_cycles,
    }
    if result.output is not None:
        out["output_shape"] = list(result.output.shape)
        out["output_sha256"] = output_sha256(result.output)
    return out
