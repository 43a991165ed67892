"""Read a SCALE-Sim (v2/v3) .cfg as an accelsim arch, so that `accelsim run --arch scale.cfg --workload topo.csv`
replaces `scalesim -c scale.cfg -t topo.csv` in one command.

What maps: the array (ArrayHeight x ArrayWidth), the dataflow (os/ws/is), the three SRAM sizes (KB, double
buffered, 1-byte words as SCALE-Sim counts them), the DRAM bandwidth and SCALE-Sim's ceil ofmap size. CALC mode
sizes the interface so that nothing stalls: unlimited bandwidth here, and cycles equal SCALE-Sim's Total Cycles.
USER mode: SCALE-Sim's three interface bandwidths (words/cycle) become the SRAMs' own DRAM ports: `[layout]
IfmapSRAMBankBandwidth` and `FilterSRAMBankBandwidth` fill the ifmap and filter SRAMs, `Bandwidth` drains the
ofmap SRAM, as SCALE-Sim applies them. accelsim walks the DRAM traffic fold by fold on them
(accelsim.dataflows.systolic.dram_walk); its stalls differ from SCALE-Sim's trace-driven ones (compared per layer in
validation/scalesim/user_mode_comparison.csv); compute cycles still equal SCALE-Sim's Total Cycles minus its Stall
Cycles.
`[sparsity] SparsitySupport: true` turns on per-layer N:M (`nm: detect`). SCALE-Sim has no clock and no energy:
the arch runs at 1 GHz and is priced with the 45 nm table and LPDDR4 DRAM (change any with --set, e.g.
--set memory.dram.technology=ddr4).
Settings that would change SCALE-Sim's results in ways accelsim does not model are refused, not ignored.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any

from accelsim.arch.yaml_io import ArchError
from accelsim.names import did_you_mean

SCALESIM_DRAM_TECHNOLOGY = "lpddr4"
"""DRAM technology of an arch read from a .cfg: SCALE-Sim has no energy and names no memory; LPDDR4 is
Accelergy/Timeloop's default DRAM class (arch_configs/energy/dram.yaml)."""

# Per section: key (lower case, as configparser stores it) -> what accelsim does with it.
_USED = {
    "general": {"run_name"},
    "architecture_presets": {"arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb",
                             "dataflow", "bandwidth"},
    "run_presets": {"interfacebandwidth"},
    "sparsity": {"sparsitysupport"},
    "layout": {"ifmapsrambankbandwidth", "filtersrambankbandwidth"},
}
# Keys that only shape SCALE-Sim's address traces or its memory request queues, not its compute cycles.
_NO_EFFECT = {
    "architecture_presets": {"ifmapoffset", "filteroffset", "ofmapoffset", "memorybanks", "readrequestbuffer",
                             "writerequestbuffer"},
    "layout": {"ifmapcustomlayout", "ifmapsrambanknum", "ifmapsrambankport", "filtercustomlayout",
               "filtersrambanknum", "filtersrambankport"},
    "sparsity": {"sparserep", "optimizedmapping", "blocksize", "randomnumbergeneratorseed"},
    "run_presets": {"useramulatortrace"},
}
# (section, key, value) combinations accelsim cannot reproduce.
_REFUSED = {
    ("sparsity", "optimizedmapping", "true"): "OptimizedMapping changes SCALE-Sim's sparse operand mapping",
    ("run_presets", "useramulatortrace", "true"): "Ramulator DRAM traces are not modelled",
    ("layout", "ifmapcustomlayout", "true"): "custom SRAM layouts (bank conflicts) are not modelled",
    ("layout", "filtercustomlayout", "true"): "custom SRAM layouts (bank conflicts) are not modelled",
}
_REQUIRED = ("arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb", "dataflow")


def read_scalesim_cfg(path: Path) -> dict[str, Any]:
    """The raw arch mapping (validated afterwards like any YAML) for a SCALE-Sim config file."""
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as error:
        raise ArchError(f"{path}: cannot read: {error.strerror or error}") from error
    except configparser.Error as error:
        raise ArchError(f"{path}: not a valid SCALE-Sim .cfg: {error.message.splitlines()[0]}") from error
    values: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        known_keys = _USED.get(section, set()) | _NO_EFFECT.get(section, set())
        if not known_keys:
            sections = _USED.keys() | _NO_EFFECT.keys()
            raise ArchError(f"{path}: unknown section [{section}].{did_you_mean(section, sections)} "
                            f"SCALE-Sim sections: {', '.join(sorted(sections))}")
        for key, value in parser.items(section):
            if key not in known_keys:
                raise ArchError(f"{path}: [{section}] unknown key {key!r}.{did_you_mean(key, known_keys)} "
                                f"Allowed: {', '.join(sorted(known_keys))}")
            reason = _REFUSED.get((section, key, value.strip().lower()))
            if reason:
                raise ArchError(f"{path}: [{section}] {key} = {value}: {reason} in accelsim; set it to false")
            values.setdefault(section, {})[key] = value.strip()
    presets = values.get("architecture_presets", {})
    missing = [key for key in _REQUIRED if key not in presets]
    if missing:
        raise ArchError(f"{path}: [architecture_presets] lacks {', '.join(missing)}")
    rows, cols = _int(path, presets, "arrayheight"), _int(path, presets, "arraywidth")
    stationary = presets["dataflow"].lower()
    if stationary not in ("os", "ws", "is"):
        raise ArchError(f"{path}: [architecture_presets] Dataflow = {presets['dataflow']!r}: allowed os, ws, is")
    mode = values.get("run_presets", {}).get("interfacebandwidth", "CALC").upper()
    if mode not in ("CALC", "USER"):
        raise ArchError(f"{path}: [run_presets] InterfaceBandwidth = {mode!r}: allowed CALC, USER")
    dram: dict[str, Any] = {"kind": "dram", "technology": SCALESIM_DRAM_TECHNOLOGY, "width_bits": 64}
    ports: dict[str, float] = {}
    if mode == "USER":
        if "bandwidth" not in presets:
            raise ArchError(f"{path}: InterfaceBandwidth USER needs [architecture_presets] Bandwidth")
        # SCALE-Sim accepts a comma list and uses its first value (validation/scalesim/FORMULAS.md).
        presets["bandwidth"] = presets["bandwidth"].split(",")[0].strip()
        layout = values.get("layout", {})
        missing_layout = [key for key in ("ifmapsrambankbandwidth", "filtersrambankbandwidth") if key not in layout]
        if missing_layout:
            raise ArchError(f"{path}: InterfaceBandwidth USER needs [layout] {', '.join(missing_layout)} (the ifmap "
                            f"and filter DRAM bandwidths in words per cycle, as SCALE-Sim reads them)")
        # One byte per word, as SCALE-Sim counts them: words per cycle are bytes per cycle.
        ports = {"ifmapsramszkb": _number(path, layout, "ifmapsrambankbandwidth", "layout"),
                 "filtersramszkb": _number(path, layout, "filtersrambankbandwidth", "layout"),
                 "ofmapsramszkb": _number(path, presets, "bandwidth")}
    sparse = values.get("sparsity", {}).get("sparsitysupport", "false").lower()
    if sparse not in ("true", "false"):
        raise ArchError(f"{path}: [sparsity] SparsitySupport = {sparse!r}: allowed true, false")
    dataflow: dict[str, Any] = {"kind": "systolic", "stationary": stationary, "ofmap_size": "scalesim"}
    if sparse == "true":
        dataflow["nm"] = "detect"
    name = values.get("general", {}).get("run_name", path.stem)

    def sram(key: str) -> dict[str, Any]:
        # One access per 1-byte word, as SCALE-Sim counts SRAM reads and writes.
        level = {"kind": "sram", "size_bytes": _int(path, presets, key) * 1024, "width_bits": 8,
                 "double_buffered": True}
        return level | ({"port_bandwidth_bytes_per_cycle": ports[key]} if key in ports else {})

    return {
        "name": name,
        "description": f"SCALE-Sim config {path.name}: {rows}x{cols} {stationary.upper()}, interface {mode}",
        "clock_mhz": 1000,
        "technology_nm": 45,
        "energy_table": "45nm",
        "data": {"weight_bits": 8, "activation_bits": 8, "accumulator_bits": 32, "arithmetic": "int"},
        "pe_array": {"rows": rows, "cols": cols},
        "memory": {"ifmap_sram": sram("ifmapsramszkb"), "filter_sram": sram("filtersramszkb"),
                   "ofmap_sram": sram("ofmapsramszkb"), "dram": dram},
        "dataflow": dataflow,
    }


def _int(path: Path, presets: dict[str, str], key: str) -> int:
    number = _number(path, presets, key)
    if number != int(number) or number <= 0:
        raise ArchError(f"{path}: [architecture_presets] {key} = {presets[key]!r}: must be a positive integer")
    return int(number)


def _number(path: Path, presets: dict[str, str], key: str, section: str = "architecture_presets") -> float:
    try:
        number = float(presets[key])
    except ValueError:
        raise ArchError(f"{path}: [{section}] {key} = {presets[key]!r}: not a number") from None
    if number <= 0:
        raise ArchError(f"{path}: [{section}] {key} = {presets[key]!r}: must be positive")
    return number
