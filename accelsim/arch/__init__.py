"""Accelerator specs: typed models (`spec`), YAML / SCALE-Sim .cfg loading with path-carrying errors (`loader`)."""

from accelsim.arch.loader import ArchError, apply_overrides, arch_from_dict, known_archs, load_arch, resolve_dense_twin
from accelsim.arch.spec import Arch, Component, DataflowSpec, DataWidths, MemoryLevel, PEArray

__all__ = ["Arch", "ArchError", "Component", "DataWidths", "DataflowSpec", "MemoryLevel", "PEArray",
           "apply_overrides", "arch_from_dict", "known_archs", "load_arch", "resolve_dense_twin"]
