"""The kernels timed on a layer's real weights, each the library implementation users would call:

| kernel | torch call | CPU library | GPU library |
|---|---|---|---|
| dense  | `W @ X` (fp32; fp16 and bf16 on GPU, TF32 off) | MKL sgemm | cuBLAS |
| csr    | `W.to_sparse_csr() @ X` | MKL sparse | cuSPARSE SpMM |
| bsr    | `W.to_sparse_bsr(block) @ X` | MKL sparse BSR | cuSPARSE bsrmm (fp32) / Triton (fp16, bf16) |
| 2:4    | `to_sparse_semi_structured(W) @ X` (fp16, bf16) | (none) | cuSPARSELt / CUTLASS |

A kernel that cannot run a layer (BSR blocks that do not tile the weight, a weight that is not 2:4, a shape
cuSPARSELt refuses, a dtype the device lacks; or an error the library raises, see `bench.KernelRefused`) is
reported with its reason, never skipped silently.
Every result is checked against a float64 product: relative Frobenius error at most `TOLERANCE[dtype]`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from accelsim.dataflows.library_kernels.features import GemmFeatures
from accelsim.dataflows.library_kernels.kernel_models import LIBRARY_KERNELS

KERNELS = tuple(LIBRARY_KERNELS)
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
# fp32 sums Wr products with 24-bit mantissas: errors ~1e-6 relative; fp16/bf16 round every operand first
# (8- and 11-bit mantissas, fp32 accumulation), which alone gives ~2e-3 relative error.
TOLERANCE = {"fp32": 1e-4, "fp16": 1e-2, "bf16": 2e-2}
# cuSPARSELt / CUTLASS 2:4 minimum tile: rows a multiple of 32 and the reduction a multiple of 64 (fp16, bf16).
SEMI_STRUCTURED_MULTIPLES = (32, 64)


@dataclass(frozen=True)
class KernelSpec:
    kernel: str
    dtype: str = "fp32"
    block: tuple[int, int] = (16, 16)
    """BSR block (rows x cols); unused by the other kernels."""

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel {self.kernel!r}: allowed {', '.join(KERNELS)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype {self.dtype!r}: allowed {', '.join(DTYPES)}")

    @property
    def layout(self) -> str:
        return "rsc" if self.kernel == "2:4" else "crs"

    @property
    def label(self) -> str:
        block = f"{self.block[0]}x{self.block[1]}" if self.kernel == "bsr" else ""
        return f"{self.kernel}{block}.{self.dtype}"


def default_kernels(device: torch.device, features: GemmFeatures, block: tuple[int, int] | None) -> list[KernelSpec]:
    """What a user would compare on this device: dense in each dtype, CSR, BSR when the weight was block-pruned
    (`block` given), 2:4 when the weight is 2:4."""
    if device.type == "cpu":
        specs = [KernelSpec("dense", "fp32"), KernelSpec("csr", "fp32")]
        specs += [KernelSpec("bsr", "fp32", block)] if block else []
        return specs
    specs = [KernelSpec("dense", dtype) for dtype in ("fp32", "fp16", "bf16")]
    specs += [KernelSpec("csr", "fp32"), KernelSpec("csr", "fp16")]
    specs += [KernelSpec("bsr", dtype, block) for dtype in ("fp32", "fp16")] if block else []
    specs += [KernelSpec("2:4", dtype) for dtype in ("fp16", "bf16")] if features.is_2_4 else []
    return specs


def why_unavailable(spec: KernelSpec, device: torch.device, features: GemmFeatures) -> str | None:
    """Why `spec` cannot run this layer on `device`, or None."""
    if device.type == "cpu" and spec.dtype != "fp32":
        return f"{spec.dtype} kernels are timed on the GPU only (the CPU has no {spec.dtype} sparse kernels)"
    if spec.kernel == "bsr" and device.type == "cpu" and spec.block[0] != spec.block[1]:
        return "torch's CPU BSR kernel (MKL) needs square blocks"
    if spec.kernel == "bsr" and (features.k % spec.block[0] or features.reduction % spec.block[1]):
        return f"{spec.block[0]}x{spec.block[1]} blocks do not tile a {features.k} x {features.reduction} weight"
    if spec.kernel == "2:4":
        if device.type != "cuda":
            return "2:4 semi-structured kernels (cuSPARSELt/CUTLASS) exist on CUDA GPUs only"
        if spec.dtype == "fp32":
            return "2:4 kernels are timed in fp16 and bf16"
        if not features.is_2_4:
            return "the weight is not 2:4 along its channels-last reduction"
        rows, cols = SEMI_STRUCTURED_MULTIPLES
        if features.k % rows or features.reduction % cols:
            return f"cuSPARSELt needs rows a multiple of {rows} and a reduction a multiple of {cols}; " \
                   f"the weight is {features.k} x {features.reduction}"
    return None


def prepare(spec: KernelSpec, weights: Sequence[torch.Tensor], device: torch.device) -> list:
    """Each group's weight in the kernel's format on the device (conversion is not timed)."""
    dtype = DTYPES[spec.dtype]
    prepared = []
    warnings.filterwarnings("ignore", message="Sparse (CSR|BSR) tensor support is in beta")
    for weight in weights:
        prepared.append(_TO_FORMAT[spec.kernel](weight.to(device=device, dtype=dtype), spec))
    return prepared


def _semi_structured(dense: torch.Tensor, spec: KernelSpec):
    from torch.sparse import to_sparse_semi_structured

    return to_sparse_semi_structured(dense)


# How each kernel's weight is stored before the timed call (conversion is not timed).
_TO_FORMAT = {"dense": lambda dense, spec: dense, "csr": lambda dense, spec: dense.to_sparse_csr(),
              "bsr": lambda dense, spec: dense.to_sparse_bsr(spec.block), "2:4": _semi_structured}


def make_call(prepared: list) -> Callable[[Sequence[torch.Tensor]], list[torch.Tensor]]:
    """The timed call: every group's product, one after another."""
    def call(inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [weight @ x for weight, x in zip(prepared, inputs, strict=True)]
    return call

