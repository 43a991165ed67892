"""A GPU or CPU running one vendor library kernel per layer (cuBLAS, cuSPARSE, cuSPARSELt, MKL): an analytical
model whose parameters come from datasheets or from fits to measured timings (accelsim.kernel_bench)."""

from accelsim.dataflows.library_kernels.dataflow import LibraryKernels

__all__ = ["LibraryKernels"]
