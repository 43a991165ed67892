"""Typed models of an accelerator: clock, PE array, data widths, memory levels, priced components, dataflow.

Every model forbids unknown keys and documents each field right after it, so that a misspelled YAML key fails with
its path and the allowed names (see `accelsim.arch.yaml_io`). Sizes are in bytes, widths in bits, clocks in MHz.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

_STRICT = ConfigDict(extra="forbid", frozen=True)


class DataWidths(BaseModel):
    model_config = _STRICT

    weight_bits: PositiveInt = 16
    """Bits per weight value as the datapath sees it (after decoding any codebook)."""
    activation_bits: PositiveInt = 16
    """Bits per input/output activation value."""
    accumulator_bits: PositiveInt = 32
    """Bits of a partial sum."""
    arithmetic: Literal["int", "fp"] = "int"
    """Integer (fixed point) or floating point MACs; selects the MAC energy entry with the operand width."""

    @model_validator(mode="after")
    def _accumulator_holds_operands(self) -> DataWidths:
        if self.accumulator_bits < max(self.weight_bits, self.activation_bits):
            raise ValueError(f"accumulator_bits ({self.accumulator_bits}) is narrower than an operand "
                             f"(weight_bits {self.weight_bits}, activation_bits {self.activation_bits})")
        return self

    @property
    def mac_precision(self) -> str:
        """Key of the MAC entry in an energy table, e.g. 'int16' (the wider operand decides)."""
        return f"{self.arithmetic}{max(self.weight_bits, self.activation_bits)}"


class PEArray(BaseModel):
    model_config = _STRICT

    rows: PositiveInt
    cols: PositiveInt
    macs_per_pe: PositiveInt = 1
    """Multipliers in one PE (SCNN's F x I array, Eyeriss v2's SIMD width)."""

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    @property
    def multipliers(self) -> int:
        return self.pes * self.macs_per_pe


class MemoryLevel(BaseModel):
    """One memory (or a set of identical per-PE memories). Accesses are counted in units of `width_bits`."""

    model_config = _STRICT

    kind: Literal["register_file", "sram", "dram"]
    """Selects the energy-table entry: register_file and sram are priced by capacity, dram per bit."""
    technology: str | None = None
    """DRAM technology of a dram level (required there, nowhere else), e.g. lpddr4, ddr4, hbm2, hbm3: selects its
    energy per bit in arch_configs/energy/dram.yaml. DRAM is off chip and is not scaled with technology_nm."""
    size_bytes: PositiveInt | None = None
    """Capacity of one instance. Required for register_file and sram; DRAM is unbounded when left out."""
    width_bits: PositiveInt = 64
    """Bits moved by one access: the unit of the action counts."""
    instances: PositiveInt = 1
    """Identical copies (one per PE or bank); size_bytes is per instance."""
    bandwidth_bytes_per_cycle: PositiveFloat | None = None
    """Sustained bandwidth in bytes per accelerator clock cycle, all instances together. Unlimited when left out."""
    bandwidth_gbytes_per_s: PositiveFloat | None = None
    """The same bandwidth in GB/s (10^9 bytes): converted with the arch clock. Give at most one of the two."""
    double_buffered: bool = False
    """Half the capacity is filled while the other half is used (SCALE-Sim's SRAMs)."""
    port_bandwidth_bytes_per_cycle: PositiveFloat | None = None
    """Bandwidth of this buffer's own port to DRAM, bytes per cycle: its fills and drains use it instead of the
    shared dram level's bandwidth (SCALE-Sim's per-operand interface bandwidths). Left out: the buffer's DRAM
    traffic shares the dram level's bandwidth with the others."""
    read_energy_pj: PositiveFloat | None = None
    """Energy of one read access; overrides the energy table. On chip, given at the arch's
    explicit_energy_node_nm and scaled from there; a dram level's is used as given."""
    write_energy_pj: PositiveFloat | None = None
    """Energy of one write access; overrides the energy table (scaled as read_energy_pj)."""

    @model_validator(mode="after")
    def _consistent(self) -> MemoryLevel:
        if self.kind == "dram" and self.technology is None:
            raise ValueError("technology is required for a dram level: the DRAM technology that prices it, one of "
                             "the names in arch_configs/energy/dram.yaml (e.g. lpddr4, ddr4, hbm2, hbm3)")
        if self.kind != "dram" and self.technology is not None:
            raise ValueError(f"technology is for dram levels only (this one is a {self.kind})")
        if self.kind != "dram" and self.size_bytes is None:
            raise ValueError(f"size_bytes is required for a {self.kind}")
        if self.size_bytes is not None and self.size_bytes * 8 < self.width_bits:
            raise ValueError(f"size_bytes ({self.size_bytes}) holds less than one access of width_bits "
                             f"({self.width_bits})")
        if self.bandwidth_bytes_per_cycle is not None and self.bandwidth_gbytes_per_s is not None:
            raise ValueError("give bandwidth_bytes_per_cycle or bandwidth_gbytes_per_s, not both")
        return self

    @property
    def capacity_bytes(self) -> int | None:
        """Total capacity over all instances (None for unbounded DRAM)."""
        return None if self.size_bytes is None else self.size_bytes * self.instances

    @property
    def buffer_bytes(self) -> float | None:
        """Capacity the data in use may take: half of it when double buffered (the other half is being filled)."""
        capacity = self.capacity_bytes
        return None if capacity is None else capacity / (2 if self.double_buffered else 1)


class Component(BaseModel):
    """A priced unit that is not a memory level: a NoC, a codebook, a control unit, a crossbar."""

    model_config = _STRICT

    kind: Literal["noc", "register_file", "logic"]
    """noc is priced per bit and hop from the table; register_file by capacity; logic needs explicit energies."""
    size_bytes: PositiveInt | None = None
    width_bits: PositiveInt = 16
    hops: PositiveFloat = 1.0
    """Average hops of one transfer (noc only)."""
    energy_pj: dict[str, PositiveFloat] = Field(default_factory=dict)
    """Explicit energy per action name, e.g. {lookup: 0.1}; overrides the table. Given at the arch's
    explicit_energy_node_nm and scaled from there to technology_nm."""

    @model_validator(mode="after")
    def _priceable(self) -> Component:
        if self.kind == "register_file" and self.size_bytes is None:
            raise ValueError("size_bytes is required for a register_file component")
        if self.kind == "logic" and not self.energy_pj:
            raise ValueError("a logic component needs energy_pj for each of its actions (no table prices logic)")
        return self


class DataflowSpec(BaseModel):
    """`kind` names a registered dataflow; `config` is that dataflow's own validated Config."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    kind: str
    config: Any


class Arch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    clock_mhz: PositiveFloat
    technology_nm: PositiveInt = 45
    """Node the energies are priced at; the energy table is scaled to it explicitly (accelsim.energy)."""
    energy_table: str = "45nm"
    """Name of a table in arch_configs/energy/ or a path to one (relative to this YAML)."""
    mac_energy_pj: PositiveFloat | None = None
    """Energy of one MAC; overrides the table's entry for data.mac_precision (scaled from explicit_energy_node_nm)."""
    explicit_energy_node_nm: PositiveInt | None = None
    """Node at which the arch's own on-chip energies (mac_energy_pj, components' energy_pj, on-chip levels'
    read/write_energy_pj) and leakage_mw are given: they are scaled from it to technology_nm with the table's
    factors. Required when any of them is given."""
    data: DataWidths = Field(default_factory=DataWidths)
    pe_array: PEArray
    memory: dict[str, MemoryLevel]
    """Memory levels by name, innermost first. Dataflows say which names they need."""
    components: dict[str, Component] = Field(default_factory=dict)
    leakage_mw: float | None = Field(default=None, ge=0.0)
    """Static power of the whole chip at explicit_energy_node_nm, charged for the run's latency. Left out: the
    energy table's leakage per KB of SRAM (scaled to technology_nm) times the arch's SRAM capacity; an error when
    the table has none."""
    dataflow: DataflowSpec
    dense_twin: str | None = None
    """The arch used as the dense reference (a name or a path relative to this YAML). Left out: the same arch with
    the dataflow's sparsity support off."""
    source: str = ""
    """Where this arch was read from, with its overrides, for messages (set by the loader)."""
    file: str | None = None
    """The YAML or .cfg file it was read from (set by the loader); relative paths inside it start from its folder."""

    @model_validator(mode="after")
    def _names_unique(self) -> Arch:
        clash = sorted(set(self.memory) & set(self.components))
        if clash or "mac" in self.memory or "mac" in self.components:
            raise ValueError(f"memory and component names must be unique and not 'mac': {clash or ['mac']}")
        for name, level in self.memory.items():
            if level.bandwidth_gbytes_per_s is not None and self.bytes_per_cycle(name) <= 0:
                raise ValueError(f"memory.{name}: bandwidth is zero at this clock")
        return self

    @property
    def folder(self) -> Path | None:
        """The folder of the file this arch was read from (None when built from a dict)."""
        return None if self.file is None else Path(self.file).parent

    @property
    def clock_hz(self) -> float:
        return self.clock_mhz * 1e6

    def bytes_per_cycle(self, level: str) -> float | None:
        """Bandwidth of a memory level in bytes per accelerator cycle (None: unlimited)."""
        spec = self.memory[level]
        if spec.bandwidth_gbytes_per_s is not None:
            return spec.bandwidth_gbytes_per_s * 1e9 / self.clock_hz
        return spec.bandwidth_bytes_per_cycle
