"""The energy tables as typed models and their loaders: one on-chip table per technology node (`<name>.yaml`), the
node scaling factors (`scaling.yaml`) and the off-chip DRAM technologies (`dram.yaml`), all in arch_configs/energy/
with every number's source. `accelsim.energy` prices an arch's actions from them.
"""

from __future__ import annotations

import bisect
import math
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt, ValidationError

from accelsim.arch.yaml_io import ArchError, read_yaml_mapping
from accelsim.names import unknown

ENERGY_DIR = Path(__file__).resolve().parents[1] / "arch_configs" / "energy"
_NOT_NODE_TABLES = ("scaling", "dram")
# How far outside its smallest and largest points a capacity table may be stretched before we refuse.
_EXTRAPOLATION_LIMIT = 4.0


class SizePoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    size_bytes: PositiveInt
    read_pj_per_bit: PositiveFloat
    write_pj_per_bit: PositiveFloat


class EnergyTable(BaseModel):
    """On-chip energies at one technology node. Off-chip DRAM is priced by technology (`DramTechnology`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    node_nm: PositiveInt
    supply_v: PositiveFloat | None = None
    mac_pj: dict[str, PositiveFloat]
    """Energy of one multiply-accumulate by operand precision ('int8', 'fp16', ...)."""
    register_file: list[SizePoint]
    sram: list[SizePoint]
    noc_pj_per_bit_per_hop: PositiveFloat
    leakage_mw_per_kb_sram: PositiveFloat | None = None

    def scaled(self, dynamic_factor: float, leakage_factor: float, node_nm: int) -> EnergyTable:
        """Every on-chip dynamic energy times `dynamic_factor`, the SRAM leakage times `leakage_factor`."""

        def points(items: list[SizePoint]) -> list[SizePoint]:
            return [SizePoint(size_bytes=p.size_bytes, read_pj_per_bit=p.read_pj_per_bit * dynamic_factor,
                              write_pj_per_bit=p.write_pj_per_bit * dynamic_factor) for p in items]

        leakage = self.leakage_mw_per_kb_sram
        return EnergyTable(name=f"{self.name} scaled to {node_nm}nm", node_nm=node_nm, supply_v=None,
                           mac_pj={key: value * dynamic_factor for key, value in self.mac_pj.items()},
                           register_file=points(self.register_file), sram=points(self.sram),
                           noc_pj_per_bit_per_hop=self.noc_pj_per_bit_per_hop * dynamic_factor,
                           leakage_mw_per_kb_sram=None if leakage is None else leakage * leakage_factor)


class NodeScaling(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_node_nm: PositiveInt
    dynamic_energy_factor: dict[int, PositiveFloat]
    leakage_factor_source: str
    """Why leakage power scales with `dynamic_energy_factor` too (the one factor we have; see scaling.yaml)."""

    def factor(self, from_nm: int, to_nm: int, where: str) -> float:
        """Energy factor from one node to another; an unknown node is an error naming `where`."""
        if from_nm == to_nm:
            return 1.0
        missing = [n for n in (from_nm, to_nm) if n not in self.dynamic_energy_factor]
        if missing:
            raise ArchError(f"{where}: no scaling factor for {missing} nm; arch_configs/energy/scaling.yaml has "
                            f"{sorted(self.dynamic_energy_factor)}")
        return self.dynamic_energy_factor[to_nm] / self.dynamic_energy_factor[from_nm]


class DramTechnology(BaseModel):
    """One off-chip DRAM technology: energy per bit moved, read or written. Off chip, so no node scaling."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pj_per_bit: PositiveFloat
    status: Literal["second-hand", "unverified", "stand-in"]
    """second-hand: a published figure read in two or more independent transcriptions, not in the original;
    unverified: one transcription only; stand-in: no figure found for this technology, another's is used."""
    includes: str
    """What the figure covers (I/O, core access, activation; never background or refresh)."""
    source: str


class DramTechnologies(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    technologies: dict[str, DramTechnology]


def load_energy_table(name_or_path: str | Path, base_dir: Path | None = None) -> EnergyTable:
    """A table by name (arch_configs/energy/<name>.yaml) or by path (relative paths from `base_dir`)."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        path = (base_dir / text) if base_dir is not None and not Path(text).is_absolute() else Path(text)
    else:
        known = {p.stem: p for p in ENERGY_DIR.glob("*.yaml") if p.stem not in _NOT_NODE_TABLES}
        if text not in known:
            raise ArchError(unknown("energy table", text, known))
        path = known[text]
    if not path.is_file():
        raise ArchError(f"{path}: no such energy table")
    try:
        return EnergyTable.model_validate(read_yaml_mapping(path))
    except ValidationError as error:
        raise ArchError(f"{path}: invalid energy table: {error}") from error


@cache
def node_scaling() -> NodeScaling:
    path = ENERGY_DIR / "scaling.yaml"
    try:
        return NodeScaling.model_validate(read_yaml_mapping(path))
    except ValidationError as error:
        raise ArchError(f"{path}: invalid node scaling: {error}") from error


@cache
def dram_technologies() -> dict[str, DramTechnology]:
    """The DRAM technologies an arch's dram level may name, from arch_configs/energy/dram.yaml."""
    path = ENERGY_DIR / "dram.yaml"
    try:
        return dict(DramTechnologies.model_validate(read_yaml_mapping(path)).technologies)
    except ValidationError as error:
        raise ArchError(f"{path}: invalid DRAM technologies: {error}") from error


def dram_technology(name: str, where: str) -> DramTechnology:
    """The technology `name`; an unknown one is an error naming `where` with the closest known name."""
    known = dram_technologies()
    if name not in known:
        raise ArchError(f"{where}: {unknown('DRAM technology', name, known)} (arch_configs/energy/dram.yaml)")
    return known[name]


def interpolate_per_bit(points: list[SizePoint], size_bytes: int, what: str) -> tuple[float, float]:
    """(read, write) pJ per bit at `size_bytes`: linear in log(size) between the two nearest points."""
    ordered = sorted(points, key=lambda p: p.size_bytes)
    smallest, largest = ordered[0].size_bytes, ordered[-1].size_bytes
    if not smallest / _EXTRAPOLATION_LIMIT <= size_bytes <= largest * _EXTRAPOLATION_LIMIT:
        raise ArchError(f"{what}: size_bytes {size_bytes} is outside what the energy table covers "
                        f"({smallest / _EXTRAPOLATION_LIMIT:g} .. {largest * _EXTRAPOLATION_LIMIT:g} bytes); "
                        f"give read_energy_pj/write_energy_pj explicitly")
    if len(ordered) == 1:
        return ordered[0].read_pj_per_bit, ordered[0].write_pj_per_bit
    sizes = [p.size_bytes for p in ordered]
    index = max(0, min(len(ordered) - 2, bisect.bisect_right(sizes, size_bytes) - 1))
    low, high = ordered[index], ordered[index + 1]
    t = (math.log(size_bytes) - math.log(low.size_bytes)) / (math.log(high.size_bytes) - math.log(low.size_bytes))
    read = low.read_pj_per_bit + t * (high.read_pj_per_bit - low.read_pj_per_bit)
    write = low.write_pj_per_bit + t * (high.write_pj_per_bit - low.write_pj_per_bit)
    return max(read, 0.0), max(write, 0.0)
