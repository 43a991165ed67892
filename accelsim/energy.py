"""Price action counts: `ActionCounts` x energy table -> energy breakdown in pJ (MAC, register files, NoC, SRAM,
DRAM, logic, leakage x time). Dataflows never compute energy; this module is the only place that does.

On-chip energies come from a table per technology node (arch_configs/energy/<name>.yaml), scaled to the arch's
`technology_nm` by the factors in arch_configs/energy/scaling.yaml; the arch's own explicit on-chip energies are
scaled the same way from `explicit_energy_node_nm`; off-chip DRAM is priced per bit by its technology
(arch_configs/energy/dram.yaml) and never scaled. Every scaling and every DRAM figure is stated in `EnergyModel.notes`.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.arch.spec import Arch
from accelsim.arch.yaml_io import ArchError
from accelsim.energy_tables import (
    DramTechnology,
    EnergyTable,
    SizePoint,
    dram_technologies,
    dram_technology,
    interpolate_per_bit,
    load_energy_table,
    node_scaling,
)
from accelsim.results import ActionCounts

CATEGORIES = ("mac", "register_file", "noc", "sram", "dram", "logic", "leakage")


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
        scaling = node_scaling()
        notes = [f"energy table {table.name} ({table.node_nm} nm)"]
        if table.node_nm != arch.technology_nm:
            factor = scaling.factor(table.node_nm, arch.technology_nm, f"{arch.source}: technology_nm")
            notes.append(f"on-chip dynamic energies and SRAM leakage scaled x{factor:.3f} from {table.node_nm} nm to "
                         f"{arch.technology_nm} nm (arch_configs/energy/scaling.yaml; leakage with the dynamic "
                         f"factor, a shortcut); DRAM unscaled (off chip)")
            table = table.scaled(factor, factor, arch.technology_nm)
        explicit_factor = _explicit_factor(arch, notes)
        prices: dict[tuple[str, str], float] = {}
        categories: dict[str, str] = {"mac": "mac"}
        if arch.mac_energy_pj is not None:
            prices[("mac", "compute")] = arch.mac_energy_pj * explicit_factor
        elif arch.data.mac_precision in table.mac_pj:
            prices[("mac", "compute")] = table.mac_pj[arch.data.mac_precision]
        else:
            raise ArchError(f"{arch.source}: the energy table {table.name} has no MAC entry for "
                            f"{arch.data.mac_precision!r} (it has {sorted(table.mac_pj)}); set mac_energy_pj")
        for name, level in arch.memory.items():
            categories[name] = level.kind
            if level.kind == "dram":
                technology = dram_technology(str(level.technology), f"{arch.source}: memory.{name}.technology")
                notes.append(_dram_note(name, level.technology, technology))
                per_bit = (technology.pj_per_bit, technology.pj_per_bit)
                given = (level.read_energy_pj, level.write_energy_pj)  # off chip: never scaled
            else:
                given = tuple(None if e is None else e * explicit_factor
                              for e in (level.read_energy_pj, level.write_energy_pj))
                per_bit = (0.0, 0.0) if None not in given else _level_prices(
                    f"{arch.source}: memory.{name}.size_bytes", level.kind, level.size_bytes, table)
            prices[(name, "read")], prices[(name, "write")] = (
                energy if energy is not None else bit * level.width_bits
                for energy, bit in zip(given, per_bit, strict=True))
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
                prices[(name, action)] = energy * explicit_factor
        leakage = _leakage_mw(arch, table, explicit_factor, notes)
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


def explicit_on_chip_energies(arch: Arch) -> list[str]:
    """Key paths of the on-chip energies (and static power) the arch gives itself instead of the table's."""
    given = ["mac_energy_pj"] if arch.mac_energy_pj is not None else []
    for name, level in arch.memory.items():
        if level.kind != "dram":
            given += [f"memory.{name}.{key}" for key in ("read_energy_pj", "write_energy_pj")
                      if getattr(level, key) is not None]
    given += [f"components.{name}.energy_pj" for name, component in arch.components.items() if component.energy_pj]
    return given + (["leakage_mw"] if arch.leakage_mw is not None else [])


def _explicit_factor(arch: Arch, notes: list[str]) -> float:
    """The factor from `explicit_energy_node_nm` to `technology_nm` for the arch's explicit on-chip energies (the
    table's factors: explicit energies follow `--set technology_nm=` like the table's)."""
    given = explicit_on_chip_energies(arch)
    if not given:
        return 1.0
    node = arch.explicit_energy_node_nm
    if node is None:
        raise ArchError(f"{arch.source}: explicit_energy_node_nm: required when the arch gives its own on-chip "
                        f"energies ({', '.join(given)}): the node they were measured or derived at, so that they "
                        f"scale with technology_nm like the energy table's")
    factor = node_scaling().factor(node, arch.technology_nm, f"{arch.source}: explicit_energy_node_nm")
    scaled = f"scaled x{factor:.3f} to {arch.technology_nm} nm" if node != arch.technology_nm else "used as given"
    notes.append(f"explicit energies ({', '.join(given)}) given at {node} nm, {scaled}")
    return factor


def _dram_note(name: str, technology_name: str | None, technology: DramTechnology) -> str:
    return (f"DRAM {name}: {technology_name}, {technology.pj_per_bit:g} pJ/bit ({technology.status}; "
            f"arch_configs/energy/dram.yaml), off chip: not scaled with technology_nm")


def _leakage_mw(arch: Arch, table: EnergyTable, explicit_factor: float, notes: list[str]) -> float:
    """Static power: the arch's `leakage_mw` (scaled from its node), else the table's SRAM leakage per KB times the
    arch's SRAM capacity. A table without leakage and an arch without `leakage_mw` is an error, never a zero."""
    if arch.leakage_mw is not None:
        leakage = arch.leakage_mw * explicit_factor
        notes.append(f"leakage {leakage:,.6g} mW: the arch's leakage_mw")
        return leakage
    per_kb = table.leakage_mw_per_kb_sram
    if per_kb is None:
        raise ArchError(f"{arch.source}: leakage_mw: the energy table {table.name} has no leakage_mw_per_kb_sram; "
                        f"give the chip's static power as leakage_mw")
    sram_kb = sum(level.capacity_bytes for level in arch.memory.values() if level.kind == "sram") / 1024
    leakage = sram_kb * per_kb
    notes.append(f"leakage {leakage:.3g} mW = {sram_kb:g} KB SRAM x {per_kb:.3g} mW/KB from the table")
    return leakage


def _level_prices(where: str, kind: str, size_bytes: int | None, table: EnergyTable) -> tuple[float, float]:
    points = table.register_file if kind == "register_file" else table.sram
    return interpolate_per_bit(points, size_bytes, f"{where} ({kind})")


__all__ = ["CATEGORIES", "EnergyModel", "SizePoint", "dram_technologies", "explicit_on_chip_energies",
           "interpolate_per_bit", "load_energy_table", "node_scaling"]
