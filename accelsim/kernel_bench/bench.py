"""`bench_workload`: time every lowered layer's GEMM under each kernel on its real pruned weights.

One row per (layer, kernel): the layer's `GemmFeatures` (what `accelsim.dataflows.library_kernels.dataflow` predicts
from), the timing (median of many repeats, see `accelsim.kernel_bench.timer`) and the kernel's checked relative error.
Rows go to `on_row` as they are measured, so a caller can write them out at once and an interrupted run keeps what it
finished."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from accelsim.dataflows.library_kernels.features import gemm_features
from accelsim.kernel_bench import torch_kernels as kernels
from accelsim.kernel_bench.device_info import device_name, parallel_units
from accelsim.kernel_bench.operands import gemm_operands
from accelsim.kernel_bench.timer import TimingPolicy, time_call
from accelsim.workload import Layer, Workload

COLUMNS = ("model", "scheme", "batch", "layer", "op", "kernel", "dtype", "block", "device", "m", "reduction", "k",
           "groups", "nnz", "density", "nnz_densest_row", "parallel_units", "nonzero_blocks", "blocks_densest_row",
           "is_2_4", "median_s", "min_s", "q1_s", "q3_s", "repeats", "input_copies", "relative_error", "tolerance")


def read_timings(path: Path) -> list[dict]:
    """The rows of a kernel-bench CSV, as strings keyed by column."""
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


class KernelCheckError(RuntimeError):
    """A kernel's result differs from the float64 product by more than its stated tolerance."""


class KernelRefused(RuntimeError):
    """The library would not prepare or run a sparse kernel on a layer (an unsupported shape, dtype or block, out
    of memory while preparing it): the layer's other kernels are still timed and this one is listed as not timed,
    with the library's words. Dense kernels, CUDA faults and mismatched operands are never refusals: they raise."""


@dataclass
class BenchResult:
    rows: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    """{"layer", "kernel", "reason"} for every layer or kernel not timed, and why."""


def bench_workload(workload: Workload, device: torch.device, *, specs: Sequence[kernels.KernelSpec] | None = None,
                   block: tuple[int, int] | None = None, policy: TimingPolicy | None = None,
                   on_row: Callable[[dict], None] | None = None,
                   on_layer: Callable[[Layer], None] | None = None) -> BenchResult:
    """Time `workload` on `device`. `specs` None: `kernels.default_kernels` per layer; `block`: the BSR block (a
    block-pruned scheme's own)."""
    provenance = workload.provenance
    context = {"model": provenance.get("model", "?"), "scheme": provenance.get("scheme", "?"),
               "batch": (provenance.get("input_shape") or [None])[0], "device": device_name(device)}
    units = parallel_units(device)
    policy = policy or TimingPolicy()
    result = BenchResult()
    for layer in workload.layers:
        if layer.op == "matmul" and not layer.weight_is_static:
            result.skipped.append({"layer": layer.name, "kernel": "all", "reason": "multiplies two activations "
                                   "(attention): no weight to store sparse"})
        else:
            _bench_layer(layer, device, specs, block, policy, units, context, result, on_row)
        if on_layer is not None:
            on_layer(layer)
    return result


def _bench_layer(layer, device, specs, block, policy, units, context, result, on_row) -> None:
    features_by_block = {}  # the nonzero-block count follows each spec's own block

    def features_for(shape: tuple[int, int]):
        if shape not in features_by_block:
            features_by_block[shape] = gemm_features(layer, parallel_units=units, block=shape)
        return features_by_block[shape]

    default_block = block or (16, 16)
    chosen = list(specs) if specs is not None else kernels.default_kernels(device, features_for(default_block), block)
    operands, reference = {}, None
    for spec in chosen:
        spec = kernels.KernelSpec(spec.kernel, spec.dtype, block or spec.block)
        features = features_for(spec.block if spec.kernel == "bsr" else default_block)
        reason = kernels.why_unavailable(spec, device, features)
        if reason is not None:
            result.skipped.append({"layer": layer.name, "kernel": spec.label, "reason": reason})
            continue
        if spec.layout not in operands:
            operands[spec.layout] = gemm_operands(layer, spec.layout)
        gemm = operands[spec.layout]
        _check_operands(layer, gemm)
        if reference is None:  # W X is the same product in either reduction order
            reference = [w.double() @ x.double() for w, x in zip(gemm.weights, gemm.inputs, strict=True)]
        try:
            row = _time_kernel(layer, spec, gemm, reference, device, policy)
        except KernelRefused as refusal:
            result.skipped.append({"layer": layer.name, "kernel": spec.label, "reason": str(refusal)})
            continue
        row = {**context, "layer": layer.name, "op": layer.op, **row, **features.as_dict()}
        row["density"] = features.density
        row = {column: row.get(column) for column in COLUMNS}
        result.rows.append(row)
        if on_row is not None:
            on_row(row)


def _time_kernel(layer, spec, gemm, reference, device, policy) -> dict:
    dtype = kernels.DTYPES[spec.dtype]
    inputs = [x.to(device=device, dtype=dtype) for x in gemm.inputs]
    try:
        prepared = kernels.prepare(spec, gemm.weights, device)
        call = kernels.make_call(prepared)
        outputs = call(inputs)
    except (RuntimeError, NotImplementedError) as error:
        if spec.kernel == "dense" or _is_device_fault(error):
            raise  # dense GEMMs run every shape; a CUDA fault spoils every later call: both are ours to fix
        raise KernelRefused(f"the library refused it: {type(error).__name__}: {error}") from error
    error = _relative_error(outputs, reference)
    tolerance = kernels.TOLERANCE[spec.dtype]
    if not error <= tolerance:
        raise KernelCheckError(f"layer {layer.name!r}, kernel {spec.label}: relative error {error:.3g} against the "
                               f"float64 product exceeds the tolerance {tolerance:g} for {spec.dtype}")
    timing = time_call(call, inputs, device, policy)
    block = f"{spec.block[0]}x{spec.block[1]}" if spec.kernel == "bsr" else ""
    return {"kernel": spec.kernel, "dtype": spec.dtype, "block": block, **timing.as_dict(),
            "relative_error": error, "tolerance": tolerance}


def _check_operands(layer, gemm) -> None:
    """The lowering's shapes agree (a mismatch is our bug, which must not pass for a library's refusal)."""
    shapes = [(tuple(w.shape), tuple(x.shape)) for w, x in zip(gemm.weights, gemm.inputs, strict=True)]
    if not shapes or any(len(w) != 2 or len(x) != 2 or w[1] != x[0] for w, x in shapes):
        raise ValueError(f"layer {layer.name!r}: weight and input matrices do not multiply: {shapes}")


def _is_device_fault(error: BaseException) -> bool:
    accelerator_error = getattr(torch, "AcceleratorError", None)
    return (accelerator_error is not None and isinstance(error, accelerator_error)) or "CUDA error" in str(error)


def _relative_error(outputs, reference) -> float:
    error = norm = 0.0
    for output, expected in zip(outputs, reference, strict=True):
        error += float(torch.sum((output.detach().to("cpu", torch.float64) - expected) ** 2))
        norm += float(torch.sum(expected ** 2))
    return (error / norm) ** 0.5 if norm else error ** 0.5
