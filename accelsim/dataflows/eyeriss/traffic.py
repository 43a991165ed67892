"""What each phase moves: iacts GLB -> PEs, weights DRAM -> PEs, psums between slices and outputs to DRAM, and the
cycles the ports and DRAM need for it.

Iacts. Each PE of a job streams one input row segment: channels of its block cb, input row p*U + r*dil - pad, the
columns its output range reads (CSC count-data pairs plus one address entry per channel block, or uncompressed
values). A NoC domain (a v2 PE cluster, or v1's whole array) receives, per phase, the bits of its mode: auto /
multicast: each distinct segment its PEs need, once; unicast: one copy per PE; broadcast: every segment any PE
of the array needs. Its ports move iact_ports x port width bits a cycle; a phase cannot end before its iacts are
in (a bandwidth bound per phase, not an arbitration of each port cycle by cycle: a modelling shortcut).

Weights. A PE whose slot changes block or slice loads its new tile (CSC entries plus the address vector, or
uncompressed values) before the phase computes; the weight scratch pad is not double-buffered. A weight port (a v2
weight router, one PE row of a cluster; v1's filter bus) carries each distinct tile its PEs need once (multicast),
once per PE (unicast) or every distinct tile of the array (broadcast). DRAM sends each distinct tile of a phase once.

A phase (mapping.Jobs.phase) gives every chain slot one block and slice: loads happen at its start.

DRAM. Outputs leave from the chains' bottoms in the last slice; each strip's inputs are fetched during the strip
before (the first strip's before the layer starts: first_fetch), once, or once per block when they overflow the
GLB; psums spill to DRAM only when they overflow the GLB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.eyeriss import pe_rows_jit, traffic_jit
from accelsim.dataflows.eyeriss.machine import Machine
from accelsim.dataflows.eyeriss.mapping import Mapping
from accelsim.dataflows.eyeriss.problem import Problem

MODE_LABELS = ("unicast", "grouped_multicast", "interleaved_multicast", "broadcast")


@dataclass
class Traffic:
    """Per phase (mapping.Jobs.phase)."""

    iact_cycles: np.ndarray
    """(phases,) cycles the busiest domain's iact ports need."""
    weight_load_cycles: np.ndarray
    """(phases,) cycles loading new weight tiles before the phase computes."""
    dram_cycles: np.ndarray
    """(phases,) cycles DRAM needs for the phase's streamed traffic (outputs, the next strip's inputs, spills)."""
    first_fetch_cycles: int
    iact_noc_bits: int
    iact_glb_read_bits: int
    iact_spad_writes: int
    weight_noc_bits: int
    weight_spad_write_bits: int
    psum_glb_read_bits: int
    psum_glb_write_bits: int
    dram_read_bits: int
    dram_write_bits: int
    dram_iact_bits: int
    """Of the DRAM reads, the layer's inputs (written into the GLB)."""
    iact_mode: str
    weight_mode: str


def phase_traffic(problem: Problem, machine: Machine, mapping: Mapping, job_pes: np.ndarray) -> Traffic:
    jobs, tiles = mapping.jobs, mapping.tiles
    job_phase = mapping.jobs.phase
    phases = int(job_phase.max(initial=-1)) + 1
    modes = _modes(machine, problem.kind)
    (pe_phase, pe_row, pe_slot, domain, key, segment_bits, segment_values), weight_rows = pe_rows(
        problem, machine, mapping, job_pes)
    w_phase, w_row, w_slot, port, tile_key, tile_bits = weight_rows

    # Iacts: one row segment per PE.
    iact_bits, iact_mode = _delivery(modes.iact, pe_phase, domain, key, segment_bits, phases, pe_row, pe_slot)
    iact_cycles = iact_bits / (machine.iact_ports * machine.iact_port_bits)
    unique_reads = _unique_sum(pe_phase, key, segment_bits, phases)

    # Weights: tiles of the PEs whose slot changed (block, slice).
    weight_bits, weight_mode = _delivery(modes.weight, w_phase, port, tile_key, tile_bits, phases, w_row, w_slot)
    weight_dram = _unique_sum(w_phase, tile_key, tile_bits, phases)
    dram_bits_per_cycle = None if machine.dram_bytes_per_cycle is None else machine.dram_bytes_per_cycle * 8
    weight_cycles = weight_bits.max(axis=1, initial=0) / machine.weight_port_bits
    if dram_bits_per_cycle is not None:
        weight_cycles = np.maximum(weight_cycles, weight_dram / dram_bits_per_cycle)

    # Psums between slices, outputs, and the DRAM stream.
    positions = (jobs.q1 - jobs.q0) * tiles.block_count[jobs.block]
    last = jobs.slice == mapping.slices - 1
    psum_reads = np.where(jobs.slice > 0, positions, 0) * machine.psum_bits
    psum_writes = np.where(~last, positions, 0) * machine.psum_bits
    stream = np.bincount(job_phase, weights=np.where(last, positions, 0) * machine.act_bits, minlength=phases)
    if mapping.psum_spill:
        stream += np.bincount(job_phase, weights=psum_reads + psum_writes, minlength=phases)
    dram_iacts = _dram_input_bits(problem, machine, mapping).ravel()  # (images x strips), in run order
    index_of_phase = np.zeros(phases, dtype=np.int64)  # (image, strip) of each phase's first job
    first_jobs = np.flatnonzero(np.r_[True, job_phase[1:] != job_phase[:-1]])
    index_of_phase[job_phase[first_jobs]] = jobs.n[first_jobs] * len(mapping.strips) + jobs.strip[first_jobs]
    fetch_phases = np.zeros(phases)
    for index in range(1, dram_iacts.size):  # fetched during the strip before (phases run in strip order)
        lo, hi = np.searchsorted(index_of_phase, [index - 1, index])
        lo = min(lo, hi - 1) if hi > 0 else 0
        fetch_phases[lo:max(hi, lo + 1)] += dram_iacts[index] / (max(hi, lo + 1) - lo)
    first_fetch = float(dram_iacts[0])
    stream += fetch_phases
    dram_cycles = np.zeros(phases) if dram_bits_per_cycle is None else stream / dram_bits_per_cycle
    first_fetch_cycles = 0 if dram_bits_per_cycle is None else math.ceil(first_fetch / dram_bits_per_cycle)
    outputs = float(np.where(last, positions, 0).sum()) * machine.act_bits
    spill = float(psum_reads.sum() + psum_writes.sum()) if mapping.psum_spill else 0.0
    return Traffic(
        iact_cycles=iact_cycles.max(axis=1, initial=0), weight_load_cycles=weight_cycles, dram_cycles=dram_cycles,
        first_fetch_cycles=first_fetch_cycles, iact_noc_bits=int(iact_bits.sum()),
        iact_glb_read_bits=int(unique_reads.sum()), iact_spad_writes=int(segment_values.sum()),
        weight_noc_bits=int(weight_bits.sum()), weight_spad_write_bits=int(tile_bits.sum()),
        psum_glb_read_bits=0 if mapping.psum_spill else int(psum_reads.sum()),
        psum_glb_write_bits=0 if mapping.psum_spill else int(psum_writes.sum()),
        dram_read_bits=round(float(dram_iacts.sum()) + float(weight_dram.sum()) + spill / 2),
        dram_write_bits=round(outputs + spill / 2), dram_iact_bits=round(float(dram_iacts.sum())),
        iact_mode=iact_mode, weight_mode=weight_mode)


def _modes(machine: Machine, kind: str):
    from accelsim.dataflows.eyeriss.config import NocModes

    if machine.noc_modes is None:  # v1: one multicast bus per data type
        return NocModes()
    return getattr(machine.noc_modes, kind)


def pe_rows(problem: Problem, machine: Machine, mapping: Mapping, job_pes: np.ndarray):
    """Each PE's iact rows and each loading PE's weight rows (pe_rows_jit.pe_rows): the phase, grid row and chain
    slot, the NoC domain or weight port, the key of its datum (an iact row segment: image, group, channel block,
    input row, first output column; a weight tile: block, reduction item) and its bits (a segment's also its
    values; zero for a padded row). A segment streams channels cb of input row h over the columns its output range
    reads: CSC count-data pairs plus ceil(columns / stride) address entries, or uncompressed values; a tile is CSC
    entries plus its address vector, or uncompressed values."""
    return pe_rows_jit.pe_rows(*pe_rows_args(problem, machine, mapping, job_pes))


def pe_rows_args(problem: Problem, machine: Machine, mapping: Mapping, job_pes: np.ndarray) -> tuple:
    """pe_rows_jit.pe_rows's arguments."""
    jobs, tiles = mapping.jobs, mapping.tiles
    _n_img, _groups, cg, height, width = problem.x.shape
    prefix = (traffic_jit.block_row_prefix(problem.x, tiles.c0) if mapping.csc_iacts
              else np.zeros((1, 1, 1, 1, 1), dtype=np.int64))
    if machine.csc_weights:
        tile_scale = machine.pair_bits
        tile_constant = (tiles.c0 * tiles.col_entries.shape[3] + 1) * machine.weight_address_bits
    else:
        tile_scale, tile_constant = machine.weight_bits, 0
    layer = (problem.groups, tiles.channel_blocks, cg, height, width, problem.q, *problem.stride, *problem.dilation,
             *problem.padding, problem.s, tiles.c0)
    grid = (mapping.chain_length, machine.cols, machine.domain_rows, machine.domain_cols, machine.weight_port_rows,
            machine.weight_port_cols)
    bits = (mapping.csc_iacts, machine.pair_bits, machine.count_bits, machine.act_bits, tile_scale, tile_constant)
    return (job_pes.astype(np.int64), jobs.n, jobs.block, jobs.slice, jobs.p, jobs.q0, jobs.q1, jobs.slot,
            jobs.phase, jobs.loads, mapping.items_cb, mapping.items_r, tiles.block_group, tiles.tile_entries, prefix,
            tuple(int(v) for v in layer), tuple(int(v) for v in grid), tuple(int(v) for v in bits))


def _delivery(mode: str, phases_of, port, key, bits, phases: int, pe_row, pe_slot) -> tuple[np.ndarray, str]:
    """((phases, ports) bits each port carries in each phase, the mode's label)."""
    ports = int(port.max(initial=0)) + 1
    label = _label(phases_of, key, pe_row, pe_slot) if mode == "auto" else mode
    flat = (phases_of * ports + port).astype(np.int64)
    if mode == "unicast":
        carried = np.bincount(flat, weights=bits, minlength=phases * ports)
    elif mode == "broadcast":
        total = _unique_sum(phases_of, key, bits, phases)
        active = np.zeros((phases, ports), dtype=bool)
        active[phases_of, port] = True
        return np.where(active, total[:, None], 0.0), label
    else:  # multicast: each distinct datum once per port
        first = _first_of_each(flat, key)
        carried = np.bincount(flat[first], weights=bits[first], minlength=phases * ports)
    return carried.reshape(phases, ports), label


def _combined(group: np.ndarray, key: np.ndarray) -> np.ndarray:
    """One non-negative int64 per (group, key) pair."""
    return group.astype(np.int64) * (int(key.max(initial=0)) + 1) + key


def _first_of_each(group: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each distinct (group, key) pair."""
    return traffic_jit.distinct_ids(_combined(group, key))[1]


def _unique_sum(phases_of, key, bits, phases: int) -> np.ndarray:
    """(phases,) bits of the distinct data each phase needs."""
    if phases_of.size == 0:
        return np.zeros(phases)
    first = _first_of_each(phases_of, key)
    return np.bincount(phases_of[first], weights=bits[first], minlength=phases)


def _label(phases_of, key, pe_row, pe_slot) -> str:
    """The pattern the mapping asks of the NoC: no datum shared (unicast); every shared datum reaching every chain
    slot of its phase (broadcast); shared within grid rows (grouped multicast) or across rows (interleaved
    multicast), whichever holds for most shared data (traffic_jit.delivery_pattern)."""
    if phases_of.size == 0:
        return "unicast"
    datum = traffic_jit.distinct_ids(_combined(phases_of, key))[0]  # a datum: one (phase, key)
    pattern = traffic_jit.delivery_pattern(datum, phases_of.astype(np.int64), pe_row.astype(np.int64),
                                           pe_slot.astype(np.int64))
    return MODE_LABELS[pattern]


def _dram_input_bits(problem: Problem, machine: Machine, mapping: Mapping) -> np.ndarray:
    """(images, strips) bits of each strip's inputs read from DRAM (all its fetches)."""
    bits = mapping.strip_iact_bits.astype(np.float64)
    if machine.dram_act_bits_per_nonzero is not None:  # v1: RLC in DRAM instead of the on-chip form
        from accelsim.dataflows.eyeriss.mapping import input_rows

        nonzero = np.count_nonzero(problem.x, axis=(1, 2, 4))
        bits = np.stack([nonzero[:, input_rows(problem, p0, p1)].sum(axis=1) for p0, p1 in mapping.strips],
                        axis=1) * machine.dram_act_bits_per_nonzero
    return bits * mapping.iact_fetches
