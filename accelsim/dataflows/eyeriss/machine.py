"""One description of a row-stationary machine, read from an arch and its dataflow config, for both Eyeriss v1 and
Eyeriss v2: the physical PE grid (partial sums accumulate down its columns), the NoC domains and port widths per
data type, the scratch-pad capacities, the SIMD width, what the PE skips, and where each action is counted.

Eyeriss v2 (JETCAS 2019): 8 x 2 PE clusters of 3 x 4 PEs seen as a 24 x 8 grid. Iacts reach a cluster through
`iact_ports_per_cluster` routers; a weight router feeds one PE row of a cluster (weights move horizontally only);
psum routers connect the clusters vertically (psums move down only). Eyeriss v1 (JSSC 2017): 12 x 14 PEs, one
multicast bus per data type for the whole array.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.arch import Arch

V2_LEVELS = ("iact_addr_spad", "iact_spad", "weight_addr_spad", "weight_spad", "psum_spad", "glb_iact", "glb_psum",
             "dram")
V1_LEVELS = ("iact_spad", "weight_spad", "psum_spad", "glb", "dram")
NOCS = ("iact_noc", "weight_noc", "psum_noc")


@dataclass(frozen=True)
class Machine:
    accelerator: str
    rows: int
    """Physical PE rows: a chain of partial sums runs down a column."""
    cols: int
    domain_rows: int
    """PEs of one iact NoC domain (a v2 PE cluster; v1: the whole array)."""
    domain_cols: int
    iact_ports: int
    """Iact ports into one domain."""
    iact_port_bits: int
    weight_port_rows: int
    """PEs one weight port serves (v2: one PE row of a cluster; v1: the array)."""
    weight_port_cols: int
    weight_port_bits: int
    link_values: int
    """Psums per cycle over a vertical psum link."""
    iact_entries: int
    weight_values: int
    weight_columns: int | None
    psum_entries: int
    psum_positions: int
    """Positions of psums the mapping plans the psum scratch pad to hold (M0 <= psum_entries / this)."""
    simd: int
    fill: int
    fetch_buffer: int
    csc_iacts: str
    """'auto', 'csc' or 'uncompressed' (v1: uncompressed)."""
    csc_weights: bool
    gate_zero_iacts: bool
    count_bits: int
    weight_address_bits: int
    act_bits: int
    weight_bits: int
    psum_bits: int
    dram_act_bits_per_nonzero: float | None
    """Bits a nonzero activation takes in DRAM when compressed there (v1 RLC), None: as on chip."""
    dram_run_bits: int
    glb_iact_bytes: int
    glb_psum_bytes: int
    glb_shared: bool
    """One GLB pool for iacts and psums (v1) instead of separate banks (v2)."""
    dram_bytes_per_cycle: float | None
    glb_iact: str
    glb_psum: str
    iact_address_level: str | None
    weight_address_level: str | None
    policy: str
    m0_limit: int | None
    noc_modes: object | None
    spread: object

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    @property
    def pair_bits(self) -> int:
        """A compressed entry (count + data) of an iact or weight."""
        return self.count_bits + self.act_bits


def entries(arch: Arch, level: str, bits_each: int) -> int:
    """Values of `bits_each` bits one instance of a memory level holds."""
    return arch.memory[level].size_bytes * 8 // bits_each


def v2_machine(arch: Arch, config) -> Machine:
    data = arch.data
    pair = config.count_bits + data.weight_bits
    return Machine(
        accelerator="Eyeriss v2", rows=arch.pe_array.rows, cols=arch.pe_array.cols,
        domain_rows=config.cluster_rows, domain_cols=config.cluster_cols,
        iact_ports=config.iact_ports_per_cluster, iact_port_bits=arch.components["iact_noc"].width_bits,
        weight_port_rows=1, weight_port_cols=config.cluster_cols,
        weight_port_bits=arch.components["weight_noc"].width_bits,
        link_values=max(1, arch.components["psum_noc"].width_bits // data.accumulator_bits),
        iact_entries=entries(arch, "iact_spad", arch.memory["iact_spad"].width_bits),
        weight_values=entries(arch, "weight_spad", pair),
        weight_columns=entries(arch, "weight_addr_spad", config.weight_address_bits),
        psum_entries=entries(arch, "psum_spad", data.accumulator_bits), psum_positions=config.psum_positions,
        simd=config.simd_width, fill=config.pipeline_depth - 2, fetch_buffer=config.fetch_buffer,
        csc_iacts=config.iact_format, csc_weights=config.weight_format == "csc", gate_zero_iacts=False,
        count_bits=config.count_bits, weight_address_bits=config.weight_address_bits,
        act_bits=data.activation_bits, weight_bits=data.weight_bits, psum_bits=data.accumulator_bits,
        dram_act_bits_per_nonzero=None, dram_run_bits=config.count_bits,
        glb_iact_bytes=arch.memory["glb_iact"].capacity_bytes, glb_psum_bytes=arch.memory["glb_psum"].capacity_bytes,
        glb_shared=False, dram_bytes_per_cycle=arch.bytes_per_cycle("dram"), glb_iact="glb_iact",
        glb_psum="glb_psum", iact_address_level="iact_addr_spad", weight_address_level="weight_addr_spad",
        policy=config.weight_tile_policy, m0_limit=config.m0, noc_modes=config.noc_modes,
        spread=config.spread)


def v1_machine(arch: Arch, config) -> Machine:
    data = arch.data
    rlc = (config.run_bits + data.activation_bits) if config.rlc_dram else None
    glb = arch.memory["glb"].capacity_bytes
    return Machine(
        accelerator="Eyeriss v1", rows=arch.pe_array.rows, cols=arch.pe_array.cols,
        domain_rows=arch.pe_array.rows, domain_cols=arch.pe_array.cols, iact_ports=1,
        iact_port_bits=arch.components["iact_noc"].width_bits, weight_port_rows=arch.pe_array.rows,
        weight_port_cols=arch.pe_array.cols, weight_port_bits=arch.components["weight_noc"].width_bits,
        link_values=max(1, arch.components["psum_noc"].width_bits // data.accumulator_bits),
        iact_entries=entries(arch, "iact_spad", data.activation_bits),
        weight_values=entries(arch, "weight_spad", data.weight_bits), weight_columns=None,
        psum_entries=entries(arch, "psum_spad", data.accumulator_bits), psum_positions=config.psum_positions,
        simd=1, fill=config.pipeline_depth - 1, fetch_buffer=1, csc_iacts="uncompressed", csc_weights=False,
        gate_zero_iacts=config.gate_zero_iacts, count_bits=config.run_bits, weight_address_bits=0,
        act_bits=data.activation_bits, weight_bits=data.weight_bits, psum_bits=data.accumulator_bits,
        dram_act_bits_per_nonzero=rlc, dram_run_bits=config.run_bits, glb_iact_bytes=glb, glb_psum_bytes=glb,
        glb_shared=True, dram_bytes_per_cycle=arch.bytes_per_cycle("dram"), glb_iact="glb", glb_psum="glb",
        iact_address_level=None, weight_address_level=None, policy="fit_every_tile", m0_limit=None,
        noc_modes=None, spread=config.spread)


def check_levels(arch: Arch, accelerator: str, levels: tuple[str, ...]) -> None:
    missing = [name for name in levels if name not in arch.memory]
    missing += [name for name in NOCS if name not in arch.components]
    if missing:
        raise ValueError(f"{accelerator} needs memory levels {', '.join(levels)} and NoC components "
                         f"{', '.join(NOCS)}; missing {', '.join(missing)}")
    if arch.memory["dram"].kind != "dram":
        raise ValueError(f"{accelerator}: memory.dram must be of kind dram")
