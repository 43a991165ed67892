"""accelsim: cycle-level simulation of sparse DNN accelerators on the real nonzeros of pruned PyTorch models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("accelsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

from accelsim.workload import Layer, Workload, WorkloadError

__all__ = ["Layer", "Workload", "WorkloadError", "__version__"]
