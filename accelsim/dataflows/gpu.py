"""A GPU (or CPU) running a library GEMM kernel per layer: dense (cuBLAS / MKL), CSR and BSR SpMM (cuSPARSE / MKL),
or 2:4 semi-structured (cuSPARSELt). The time model is `accelsim.dataflows.gpu_model`; what it reads from the
layer's real weights (nonzeros, the busiest row chunk, nonzero blocks, whether the weight is 2:4) is
`accelsim.dataflows.gpu_features`.

This is an analytical model of library kernels, not a cycle walk of a GPU: its coefficients are fitted to, and
checked against, real timings (validation/kernels/, `accelsim kernel-bench`). Cycles are the predicted time at
the arch's clock; the time's parts are reported as stall causes (tile and wave quantisation as fragmentation,
the memory roofline as memory_bandwidth, row imbalance as load_imbalance, index work and packing as
format_overhead, the launch as pipeline_fill).

With `compute_output` the layer's output is computed from the format's own stored entries (CSR rows, BSR
blocks, 2:4 kept pairs), so a test can check that the entries the time was charged for are the whole product.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from accelsim.arch import Arch
from accelsim.dataflows.gemm_view import gemm_operands, gemm_output_to_layer
from accelsim.dataflows.gpu_features import GemmFeatures, gemm_features
from accelsim.dataflows.gpu_model import VALUE_BYTES, DeviceKernels, TimeBreakdown, predict
from accelsim.dataflows.registry import register_dataflow
from accelsim.reference import effectual_macs
from accelsim.results import ActionCounts, LayerResult
from accelsim.workload import Layer

_CAUSES = {"fragmentation_s": "fragmentation", "memory_bandwidth_s": "memory_bandwidth",
           "load_imbalance_s": "load_imbalance", "format_overhead_s": "format_overhead", "launch_s": "pipeline_fill"}


@register_dataflow("gpu")
class GPU:
    """One library kernel per layer on a device described by fitted or datasheet parameters."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        kernel: Literal["dense", "csr", "bsr", "2:4"] = "csr"
        """The kernel every layer runs with (the dense twin runs `dense` in the same dtype)."""
        dtype: Literal["fp32", "fp16", "bf16"] = "fp32"
        block_rows: int = Field(16, ge=1)
        """BSR block height (output channels)."""
        block_cols: int = Field(16, ge=1)
        """BSR block width (along the reduction, torch's C, R, S order)."""
        parallel_units: int = Field(ge=1)
        """Workers the kernels split work over: SMs on a GPU, threads on a CPU."""
        kernels: DeviceKernels
        """The device's parameters per kernel and dtype (see accelsim.dataflows.gpu_model)."""
        parameters_source: str = ""
        """Where the parameters come from: a datasheet, or the fit that produced them (for reports)."""

    def check_arch(self, arch: Arch) -> None:
        config: GPU.Config = arch.dataflow.config
        if "dram" not in arch.memory:
            raise ValueError("the gpu dataflow counts its traffic against a memory level named dram")
        config.kernels.params(config.kernel, config.dtype)  # raises naming what the device has
        config.kernels.params("dense", config.dtype)

    def dense_config(self, config: Config) -> Config:
        return config.model_copy(update={"kernel": "dense"})

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult:
        config: GPU.Config = arch.dataflow.config
        features, kernel, time, notes = _layer_time(layer, config)
        cycles = max(1, math.ceil(time.total_s * arch.clock_hz))
        stalls = {cause: int(getattr(time, part) * arch.clock_hz) for part, cause in _CAUSES.items()}
        issued = _macs_issued(features, kernel)
        output = _output(layer, kernel, config) if compute_output else None
        return LayerResult(name=layer.name, op=layer.op, cycles=cycles, macs=layer.macs, macs_issued=issued,
                           effectual_macs=effectual_macs(layer), multipliers=arch.pe_array.multipliers,
                           actions=_actions(arch, features, kernel, config.dtype, issued), stall_cycles=stalls,
                           output=output, notes=notes)


def predicted_time(layer: Layer, arch: Arch) -> TimeBreakdown:
    """The time breakdown of `layer` on a gpu arch, without building a LayerResult."""
    return _layer_time(layer, arch.dataflow.config)[2]


def _layer_time(layer: Layer, config: GPU.Config) -> tuple[GemmFeatures, str, TimeBreakdown, tuple[str, ...]]:
    """The layer's features, the kernel it really runs (a weight that is not 2:4 runs dense), its time, notes."""
    features = gemm_features(layer, parallel_units=config.parallel_units,
                             block=(config.block_rows, config.block_cols))
    kernel, notes = config.kernel, ()
    if kernel == "bsr" and not features.nonzero_blocks and features.nnz:
        raise ValueError(f"layer {layer.name!r}: {config.block_rows}x{config.block_cols} BSR blocks do not tile "
                         f"its {features.k} x {features.w} weight; choose block sizes that divide both")
    if kernel == "2:4" and not features.is_2_4:
        notes, kernel = ("weight is not 2:4 along its channels-last reduction: runs dense",), "dense"
    return features, kernel, predict(features, kernel, config.dtype, config.kernels), notes


def _macs_issued(f: GemmFeatures, kernel: str) -> int:
    if kernel == "csr":
        return f.nnz * f.m
    if kernel == "bsr":
        return f.nonzero_blocks * f.block_rows * f.block_cols * f.m
    return f.macs // 2 if kernel == "2:4" else f.macs


def _actions(arch: Arch, f: GemmFeatures, kernel: str, dtype: str, issued: int) -> ActionCounts:
    value = VALUE_BYTES[dtype]
    if kernel == "csr":
        weight_bytes = f.nnz * (value + 4) + (f.k + 1) * f.groups * 4
    elif kernel == "bsr":
        weight_bytes = f.nonzero_blocks * (f.block_rows * f.block_cols * value + 4)
    else:
        weight_bytes = f.k * f.w * f.groups * value // (2 if kernel == "2:4" else 1)
    read_bytes = weight_bytes + f.w * f.m * f.groups * value
    write_bytes = f.k * f.m * f.groups * value
    access_bytes = arch.memory["dram"].width_bits / 8
    return ActionCounts({("mac", "compute"): issued, ("dram", "read"): math.ceil(read_bytes / access_bytes),
                         ("dram", "write"): math.ceil(write_bytes / access_bytes)})


def _output(layer: Layer, kernel: str, config: GPU.Config) -> np.ndarray:
    """Y = X W through the format's stored entries only (float64), in the layer's output layout."""
    outputs = []
    for a, b in gemm_operands(layer):  # A: M x Wr, B: Wr x K, reduction in (r, s, c) order
        weight = b.T  # K x Wr
        if kernel == "bsr":
            order = _crs_order(layer, weight.shape[1])
            outputs.append(_bsr_product(a[:, order], weight[:, order], config.block_rows, config.block_cols))
        elif kernel == "2:4":
            outputs.append(_two_four_product(a, weight))
        else:  # csr and dense: every stored entry of each row (dense stores them all)
            out = np.zeros((a.shape[0], weight.shape[0]))
            for row in range(weight.shape[0]):
                columns = np.flatnonzero(weight[row]) if kernel == "csr" else np.arange(weight.shape[1])
                out[:, row] = a[:, columns] @ weight[row, columns]
            outputs.append(out)
    return gemm_output_to_layer(layer, outputs)


def _crs_order(layer: Layer, reduction: int) -> np.ndarray:
    """Indices into the (r, s, c) reduction that list it in torch's (c, r, s) order (BSR blocks cut that view)."""
    if layer.op != "conv2d":
        return np.arange(reduction)
    d = layer.dims
    channels, taps = reduction // (d["R"] * d["S"]), d["R"] * d["S"]
    return (np.arange(taps)[None, :] * channels + np.arange(channels)[:, None]).reshape(-1)


def _bsr_product(a: np.ndarray, weight: np.ndarray, block_rows: int, block_cols: int) -> np.ndarray:
    k, w = weight.shape
    out = np.zeros((a.shape[0], k))
    for i in range(0, k, block_rows):
        for j in range(0, w, block_cols):
            block = weight[i:i + block_rows, j:j + block_cols]
            if np.any(block):
                out[:, i:i + block_rows] += a[:, j:j + block_cols] @ block.T
    return out


def _two_four_product(a: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Compress each group of 4 to its 2 kept values and their 2-bit positions, then multiply by gathering."""
    k, w = weight.shape
    groups = weight.reshape(k, w // 4, 4)
    positions = np.argsort(groups == 0, axis=2, kind="stable")[:, :, :2]  # nonzeros first, then padding zeros
    values = np.take_along_axis(groups, positions, axis=2)
    columns = (np.arange(w // 4)[None, :, None] * 4 + positions).reshape(k, -1)
    return np.stack([a[:, columns[row]] @ values[row].reshape(-1) for row in range(k)], axis=1)
