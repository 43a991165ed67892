"""From the walked jobs and each phase's traffic to the layer's cycles by cause, its action counts and metrics.

A phase (each chain slot holding one block and slice, walking its rows) lasts the new weights' load, then the
longest of its slowest chain, its iact delivery and its DRAM stream. The layer adds the first strip's input fetch.
The compute part is split by where each PE-lane cycle went (a lane is one SIMD multiplier): a MAC; a padded SIMD
lane (fragmentation); the weight stage waiting for the iact fetch (empty_columns: nonzero iacts whose column holds
no weight, and fetches the MACs could not hide); pipeline fill; waiting on the psum chain (psum_chain); a chain
done before the phase's slowest (barrier); a PE with no work in the phase (spatial_underuse). Each share of the
lanes is reported as that share of the compute cycles.
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.arch import Arch
from accelsim.dataflows.eyeriss import jit
from accelsim.dataflows.eyeriss.machine import Machine
from accelsim.dataflows.eyeriss.mapping import Mapping
from accelsim.dataflows.eyeriss.traffic import Traffic
from accelsim.results import ActionCounts, LayerResult, Metric, common_causes
from accelsim.workload import Layer

STALL_CAUSES = {
    **common_causes(
        "first_fetch", "memory_bandwidth", "barrier", "fragmentation", "pipeline_fill",
        memory_bandwidth="a phase waiting for DRAM to take its outputs or bring the next strip's inputs",
        barrier="chains done before the slowest chain of their phase (the chains load their next weights "
                "together)",
        fragmentation="SIMD lanes left empty: a column's weight count not a multiple of the SIMD width"),
    "weight_load": "loading the next weight tiles into the PEs' weight scratch pads (DRAM -> PE, not "
                   "double-buffered) before a phase computes",
    "noc_bandwidth": "a phase waiting for its iacts: the busiest PE cluster's iact ports (v1: the ifmap bus) "
                     "slower than its PEs",
    "empty_columns": "the weight stage waiting for the iact fetch: a nonzero iact whose weight column is empty "
                     "takes a fetch cycle and no MAC",
    "psum_chain": "PEs waiting on the vertical psum chain: a PE's psum buffer full until the PEs above deliver "
                  "the same output position, or the psum link busy",
    "spatial_underuse": "PEs the mapping left without work in a phase (a chain shorter than the grid, fewer jobs "
                        "than slots)",
}
LANE_CAUSES = ("fragmentation", "empty_columns", "pipeline_fill", "psum_chain", "barrier", "spatial_underuse")

METRICS = {
    "pe_utilisation": Metric("share of the compute cycles' PE-cycles with a mapped PE (the spatial mapping)",
                             table_header="PE map %", summary_label="PEs mapped"),
    "m0": Metric("output channels per PE (largest block)"),
    "c0": Metric("input channels per PE (the iact window is C0 x S)"),
    "chain_length": Metric("PEs of one psum chain (filter rows x channel blocks)"),
    "slices": Metric("passes over the reduction whose psums wait in the GLB"),
    "strips": Metric("strips of output rows (GLB capacity); each reloads the weights"),
    "phases": Metric("phases: each chain slot holds one (block, slice) and walks its rows; the chains load their "
                     "next weights together"),
    "split_blocks": Metric("output-channel blocks split because a tile overflowed the weight scratch pad"),
}


def layer_result(layer: Layer, arch: Arch, machine: Machine, mapping: Mapping, jobs: np.ndarray,
                 counters: np.ndarray, traffic: Traffic, output: np.ndarray | None) -> LayerResult:
    job_phase = mapping.jobs.phase
    phases = int(job_phase.max(initial=-1)) + 1
    compute = np.zeros(phases, dtype=np.int64)
    np.maximum.at(compute, job_phase, jobs[:, jit.JOB_END])
    iact = np.ceil(traffic.iact_cycles - 1e-9).astype(np.int64)
    dram = np.ceil(traffic.dram_cycles - 1e-9).astype(np.int64)
    weights = np.ceil(traffic.weight_load_cycles - 1e-9).astype(np.int64)
    stretched = np.maximum(compute, np.maximum(iact, dram))
    noc = np.where(iact >= dram, stretched - compute, 0)
    memory = np.where(iact < dram, stretched - compute, 0)
    compute_total = int(compute.sum())
    cycles = traffic.first_fetch_cycles + int(weights.sum() + stretched.sum())

    pes = jobs[:, jit.JOB_PES]
    busy = jobs[:, jit.JOB_BUSY]
    waits = jobs[:, jit.JOB_IACT_WAIT]
    spent = pes * jobs[:, jit.JOB_TIME]  # PE-cycles each job held its chain
    fill = np.where(mapping.jobs.loads, machine.fill, 0)
    slot_in_phase = np.unique(job_phase * mapping.slots + mapping.jobs.slot, return_index=True)[1]
    chained = np.bincount(job_phase[slot_in_phase], weights=pes[slot_in_phase], minlength=phases)
    mapped = int((chained * compute).sum())  # PE-cycles of the PEs a phase's chains use
    lanes = {
        "fragmentation": int(busy.sum()) * machine.simd - int(counters[jit.MACS]),
        "empty_columns": int(waits.sum()) * machine.simd,
        "pipeline_fill": int((pes * fill).sum()) * machine.simd,
        "psum_chain": int((spent - busy - waits - pes * fill).sum()) * machine.simd,
        "barrier": (mapped - int(spent.sum())) * machine.simd,
        "spatial_underuse": (compute_total * machine.pes - mapped) * machine.simd,
    }
    total_lanes = compute_total * machine.pes * machine.simd
    stalls = {cause: round(compute_total * share / total_lanes) if total_lanes else 0
              for cause, share in lanes.items()}
    excess = sum(stalls.values()) - compute_total
    if excess > 0:  # rounding must not exceed the compute cycles
        stalls["spatial_underuse"] -= min(excess, stalls["spatial_underuse"])
    stalls.update(first_fetch=traffic.first_fetch_cycles, weight_load=int(weights.sum()),
                  noc_bandwidth=int(noc.sum()), memory_bandwidth=int(memory.sum()))
    metrics = {
        "pe_utilisation": mapped / (compute_total * machine.pes) if compute_total else 0.0,
        "m0": mapping.tiles.m0, "c0": mapping.tiles.c0, "chain_length": mapping.chain_length,
        "slices": mapping.slices, "strips": len(mapping.strips), "phases": phases,
        "split_blocks": mapping.tiles.split_blocks,
    }
    return LayerResult(
        name=layer.name, op=layer.op, cycles=cycles, macs=layer.macs, macs_issued=int(counters[jit.MACS]),
        effectual_macs=int(counters[jit.EFFECTUAL]), multipliers=machine.pes * machine.simd,
        actions=_actions(arch, machine, mapping, counters, traffic), stall_cycles=stalls, output=output,
        notes=tuple(_notes(machine, mapping, traffic)), metrics=metrics)


def _actions(arch: Arch, machine: Machine, mapping: Mapping, c: np.ndarray, traffic: Traffic) -> ActionCounts:
    def accesses(level: str, bits: float) -> int:
        width = arch.memory[level].width_bits if level in arch.memory else arch.components[level].width_bits
        return math.ceil(bits / width)

    gated = machine.gate_zero_iacts
    macs = int(c[jit.NONZERO_IACT_MACS] if gated else c[jit.MACS])
    words = int(c[jit.NONZERO_IACT_WORDS] if gated else c[jit.WEIGHT_WORDS])
    counts = {
        ("mac", "compute"): macs,
        ("iact_spad", "read"): int(c[jit.IACT_READS]),
        ("iact_spad", "write"): traffic.iact_spad_writes,
        ("weight_spad", "read"): words,
        ("weight_spad", "write"): accesses("weight_spad", traffic.weight_spad_write_bits),
        ("psum_spad", "read"): macs + int(c[jit.PSUM_SENT]),
        ("psum_spad", "write"): macs,
        ("iact_noc", "transfer"): accesses("iact_noc", traffic.iact_noc_bits),
        ("weight_noc", "transfer"): accesses("weight_noc", traffic.weight_noc_bits),
        ("psum_noc", "transfer"): accesses("psum_noc", int(c[jit.PSUM_SENT]) * machine.psum_bits
                                           + traffic.psum_glb_read_bits),
        ("dram", "read"): accesses("dram", traffic.dram_read_bits),
        ("dram", "write"): accesses("dram", traffic.dram_write_bits),
    }
    glb_reads = {machine.glb_iact: accesses(machine.glb_iact, traffic.iact_glb_read_bits)}
    glb_writes = {machine.glb_iact: accesses(machine.glb_iact, traffic.dram_iact_bits)}  # inputs land in the GLB
    for level, bits, store in ((machine.glb_psum, traffic.psum_glb_read_bits, glb_reads),
                               (machine.glb_psum, traffic.psum_glb_write_bits, glb_writes)):
        store[level] = store.get(level, 0) + accesses(level, bits)
    counts.update({(level, "read"): count for level, count in glb_reads.items()})
    counts.update({(level, "write"): count for level, count in glb_writes.items()})
    if machine.iact_address_level is not None and mapping.csc_iacts:
        counts[(machine.iact_address_level, "read")] = int(c[jit.WINDOWS])
    if machine.weight_address_level is not None and machine.csc_weights:
        counts[(machine.weight_address_level, "read")] = int(c[jit.IACT_READS])
    return ActionCounts(counts)


def _notes(machine: Machine, mapping: Mapping, traffic: Traffic) -> list[str]:
    tiles = mapping.tiles
    notes = [f"{machine.accelerator}: C0 = {tiles.c0} input channels x one filter row per PE, M0 = {tiles.m0} "
             f"output channels; chains of {mapping.chain_length} PEs, {mapping.slices} slice(s), "
             f"{mapping.slots} chain slots, {min(mapping.slots_per_block, mapping.slots)} per block, "
             f"{mapping.phases} phases, {len(mapping.strips)} strip(s)",
             f"iacts {'CSC' if mapping.csc_iacts else 'uncompressed'}, weights "
             f"{'CSC' if machine.csc_weights else 'uncompressed'}; NoC: iacts {traffic.iact_mode}, weights "
             f"{traffic.weight_mode}, psums down the columns",
             "iact delivery and DRAM are bandwidth bounds per phase (bits over the phase's cycles), not port "
             "arbitration cycle by cycle"]
    if tiles.split_blocks:
        notes.append(f"{tiles.split_blocks} output-channel block(s) split: a weight tile overflowed the weight "
                     f"scratch pad; the parts stream the same iacts again")
    if mapping.iact_fetches > 1:
        notes.append(f"the inputs of one output row overflow the GLB: they are read from DRAM once per block "
                     f"({mapping.iact_fetches} times)")
    if mapping.psum_spill:
        notes.append("psums between slices overflow the GLB: they go through DRAM")
    return notes
