"""Accelerator specs (the spec layer): typed models (`spec`), YAML reading, overrides and error messages
(`yaml_io`), SCALE-Sim .cfg reading (`scalesim_cfg`). Loading an arch by name, with its dataflow's parameters
validated, is `accelsim.arch_configs.load_arch`: it needs the dataflows, which sit below this layer."""

from accelsim.arch.spec import Arch, Component, DataflowSpec, DataWidths, MemoryLevel, PEArray
from accelsim.arch.yaml_io import ArchError, apply_overrides, parse_yaml_text, read_yaml_mapping

__all__ = ["Arch", "ArchError", "Component", "DataWidths", "DataflowSpec", "MemoryLevel", "PEArray",
           "apply_overrides", "parse_yaml_text", "read_yaml_mapping"]
