"""Price action counts: `ActionCounts` x energy table -> energy breakdown in pJ (MAC, register files, NoC, SRAM,
DRAM, logic, leakage x time). Dataflows never compute energy; this module is the only place that does.

Tables live in arch_configs/energy/<name>.yaml, one per technology node, every number with its source in a comment.
An arch at another node scales the table's dynamic energies by the factors in arch_configs/energy/scaling.yaml,
and the scaling is stated in `EnergyModel.notes`.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt, ValidationError

from accelsim.arch.spec import Arch
from accelsim.arch.yaml_io import ArchError, read_yaml_mapping
from accelsim.names import unknown
from accelsim.results import ActionCounts

ENERGY_DIR = Path(__file__).resolve().parents[1] / "arch_configs" / "energy"
CATEGORIES = ("mac", "register_file", "noc", "sram", "dram", "logic", "leakage")
# How far outside its smallest and largest points a capacity table may be stretched before we refuse.
_EXTRAPOLATION_LIMIT = 4.0


class SizePoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    size_bytes: PositiveInt
    read_pj_per_bit: PositiveFloat
    write_pj_per_bit: PositiveFloat


class EnergyTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    node_nm: PositiveInt
    supply_v: PositiveFloat | None = None
    mac_pj: dict[str, PositiveFloat]
    """Energy of one multiply-accumulate by operand precision ('int8', 'fp16', ...)."""
    register_file: list[SizePoint]
    sram: list[SizePoint]
    noc_pj_per_bit_per_hop: PositiveFloat
    dram_pj_per_bit: PositiveFloat
    leakage_mw_per_kb_sram: PositiveFloat | None = None

    def scaled(self, factor: float, node_nm: int) -> EnergyTable:
        """Every on-chip dynamic energy times `factor`. DRAM is off chip and keeps its energy; leakage is left out
        (its scaling is not a dynamic-energy factor)."""

        def points(items: list[SizePoint]) -> list[SizePoint]:
            return [SizePoint(size_bytes=p.size_bytes, read_pj_per_bit=p.read_pj_per_bit * factor,
                              write_pj_per_bit=p.write_pj_per_bit * factor) for p in items]

        return EnergyTable(name=f"{self.name} scaled to {node_nm}nm", node_nm=node_nm, supply_v=None,
                           mac_pj={key: value * factor for key, value in self.mac_pj.items()},
                           register_file=points(self.register_file), sram=points(self.sram),
                           noc_pj_per_bit_per_hop=self.noc_pj_per_bit_per_hop * factor,
                           dram_pj_per_bit=self.dram_pj_per_bit, leakage_mw_per_kb_sram=None)


class NodeScaling(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_node_nm: PositiveInt
    dynamic_energy_factor: dict[int, PositiveFloat]


def load_energy_table(name_or_path: str | Path, base_dir: Path | None = None) -> EnergyTable:
    """A table by name (arch_configs/energy/<name>.yaml) or by path (relative paths from `base_dir`)."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        path = (base_dir / text) if base_dir is not None and not Path(text).is_absolute() else Path(text)
    else:
        known = {p.stem: p for p in ENERGY_DIR.glob("*.yaml") if p.stem != "scaling"}
        if text not in known:
            raise ArchError(unknown("energy table", text, known))
        path = known[text]
    if not path.is_file():
        raise ArchError(f"{path}: no such energy table")
    try:
        return EnergyTable.model_validate(read_yaml_mapping(path))
    except ValidationError as error:
        raise ArchError(f"{path}: invalid energy table: {error}") from error


def node_scaling() -> NodeScaling:
    path = ENERGY_DIR / "scaling.yaml"
    try:
        return NodeScaling.model_validate(read_yaml_mapping(path))
    except ValidationError as error:
        raise ArchError(f"{path}: invalid node scaling: {error}") from error


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


@dataclass(frozen=True)
class EnergyModel:
    """The price of every action an arch can perform, and the category each component's energy is reported under."""

    prices_pj: dict[tuple[str, str], float]
    categories: dict[str, str]
    leakage_mw: float
    notes: tuple[str, ...]

    @classmethod
    def for_arch(cls, arch: Arch) -> EnergyModel:
        try:
            table = load_energy_table(arch.energy_table, arch.folder)
        except ArchError as error:
            raise ArchError(f"{arch.source}: energy_table: {error}") from None
        base_node_nm = table.node_nm
        notes = [f"energy table {table.name} ({table.node_nm} nm)"]
        if table.node_nm != arch.technology_nm:
            scaling = node_scaling()
            factors = scaling.dynamic_energy_factor
            missing = [n for n in (table.node_nm, arch.technology_nm) if n not in factors]
            if missing:
                raise ArchError(f"{arch.source}: technology_nm: no scaling factor for {missing} nm; "
                                f"arch_configs/energy/scaling.yaml has {sorted(factors)}")
            factor = factors[arch.technology_nm] / factors[table.node_nm]
            notes.append(f"on-chip dynamic energies scaled x{factor:.3f} from {table.node_nm} nm to "
                         f"{arch.technology_nm} nm (arch_configs/energy/scaling.yaml); DRAM unscaled")
            table = table.scaled(factor, arch.technology_nm)
        prices: dict[tuple[str, str], float] = {}
        categories: dict[str, str] = {"mac": "mac"}
        if arch.mac_energy_pj is not None:
            prices[("mac", "compute")] = arch.mac_energy_pj
        elif arch.data.mac_precision in table.mac_pj:
            prices[("mac", "compute")] = table.mac_pj[arch.data.mac_precision]
        else:
            raise ArchError(f"{arch.source}: the energy table {table.name} has no MAC entry for "
                            f"{arch.data.mac_precision!r} (it has {sorted(table.mac_pj)}); set mac_energy_pj")
        for name, level in arch.memory.items():
            categories[name] = level.kind
            explicit = (level.read_energy_pj, level.write_energy_pj)
            if None in explicit:
                read, write = _level_prices(f"{arch.source}: memory.{name}.size_bytes", level.kind,
                                            level.size_bytes, table)
                explicit = (explicit[0] or read * level.width_bits, explicit[1] or write * level.width_bits)
            prices[(name, "read")], prices[(name, "write")] = explicit
        for name, component in arch.components.items():
            categories[name] = component.kind
            if component.kind == "noc":
                prices[(name, "transfer")] = table.noc_pj_per_bit_per_hop * component.width_bits * component.hops
            elif component.kind == "register_file":
                read, write = _level_prices(f"{arch.source}: components.{name}.size_bytes", "register_file",
                                            component.size_bytes, table)
                prices[(name, "read")] = read * component.width_bits
                prices[(name, "write")] = write * component.width_bits
            for action, energy in component.energy_pj.items():
                prices[(name, action)] = energy
        leakage = arch.leakage_mw
        if leakage is None:
            sram_kb = sum(level.capacity_bytes for level in arch.memory.values() if level.kind == "sram") / 1024
            per_kb = table.leakage_mw_per_kb_sram
            leakage = sram_kb * per_kb if per_kb is not None else 0.0
            if per_kb is not None:
                notes.append(f"leakage {leakage:.3g} mW = {sram_kb:g} KB SRAM x {per_kb} mW/KB from the table")
            elif table.node_nm != base_node_nm:
                notes.append(f"leakage not modelled: the table's leakage is not scaled from {base_node_nm} nm to "
                             f"{table.node_nm} nm; give leakage_mw in the arch")
            else:
                notes.append("leakage not modelled: the arch gives no leakage_mw and the table no "
                             "leakage_mw_per_kb_sram")
        return cls(prices_pj=prices, categories=categories, leakage_mw=leakage, notes=tuple(notes))

    def breakdown_pj(self, actions: ActionCounts, latency_s: float) -> dict[str, float]:
        """Energy by category (CATEGORIES order), leakage = leakage power x latency."""
        unpriced = sorted(key for key in actions if key not in self.prices_pj)
        if unpriced:
            raise ArchError(f"no energy price for actions {unpriced}; priced actions: {sorted(self.prices_pj)} "
                            f"(a dataflow counted a component its arch does not declare)")
        totals = dict.fromkeys(CATEGORIES, 0.0)
        for (component, action), count in actions.items():
            totals[self.categories[component]] += count * self.prices_pj[(component, action)]
        totals["leakage"] = self.leakage_mw * 1e-3 * latency_s * 1e12
        return totals

    def by_component_pj(self, actions: ActionCounts) -> dict[str, float]:
        """Dynamic energy of each component ("mac", memory levels, components), for breakdowns finer than the
        categories; leakage is not a component's."""
        self.breakdown_pj(actions, 0.0)  # the same check for unpriced actions
        totals: dict[str, float] = {}
        for (component, action), count in actions.items():
            totals[component] = totals.get(component, 0.0) + count * self.prices_pj[(component, action)]
        return totals


def _level_prices(where: str, kind: str, size_bytes: int | None, table: EnergyTable) -> tuple[float, float]:
    if kind == "dram":
        return table.dram_pj_per_bit, table.dram_pj_per_bit
    points = table.register_file if kind == "register_file" else table.sram
    return interpolate_per_bit(points, size_bytes, f"{where} ({kind})")
