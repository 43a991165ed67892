"""The systolic array's DRAM traffic, walked fold by fold in the array's loop order (groups, then column folds, then
row folds), with double-buffered SRAMs: while fold f computes on the active halves, the idle halves fill with what
fold f + 1 needs and drain what fold f - 1 finished; fold f + 1 starts when both fold f and those transfers are
done, so the array waits exactly when a window's transfers outlast its fold.

What each fold needs (Sr x Sc operand matrices of SCALE-Sim, row block r_i, column block c_j):
- OS: the ifmap rows of block i (its share of the layer's input), the filter columns of block j (reduction x c_j);
  its r_i x c_j outputs are final when the fold ends.
- WS: the filter block (r_i x c_j, stationary), the ifmap columns of block i (all output pixels, reduction rows
  r_i: their share of the input); a column fold's M x c_j partial sums accumulate over its row folds.
- IS: the ifmap block (r_i x c_j, stationary), the filter rows of block i (r_i x K); K x c_j partial sums likewise.

An operand that fits half its SRAM is resident: fetched once, before its group's first fold. Otherwise each fold
fetches its block unless the previous fold used the same one and it fits the half. An ifmap block's bytes are its
share of the group's input (the im2col duplication taken as evenly spread: a modelling shortcut, stated). WS/IS
partial sums that do not fit half the ofmap SRAM stream through DRAM: every row fold writes its column fold's
partial-sum block and every row fold after the first reads it back, during its own compute.

Each operand moves through its SRAM's own DRAM port when the arch gives one (`port_bandwidth_bytes_per_cycle`,
SCALE-Sim's per-operand interface bandwidths), otherwise through the shared `dram` level's bandwidth. The layer's
first fetch (before fold 0) and final drain (after the last fold) are reported apart; the weight part of the
first fetch can hide under the previous layer's last fold in a network run (`accelsim.simulate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.arch import Arch
from accelsim.dataflows.shared.gemm_view import GemmShape

PORTS = ("ifmap", "filter", "ofmap")
LEVEL_OF_PORT = {"ifmap": "ifmap_sram", "filter": "filter_sram", "ofmap": "ofmap_sram"}


@dataclass(frozen=True)
class DramTraffic:
    """Bytes by port: before fold 0, in each fold's window (while fold w computes), after the last fold."""

    first_fetch: np.ndarray  # (3,) reads per port
    window_reads: np.ndarray  # (folds, 3): what fold w + 1 needs, and partial sums read back for fold w
    window_writes: np.ndarray  # (folds, 3): outputs finished by fold w - 1, partial sums spilled by fold w
    final_drain: np.ndarray  # (3,) writes per port after the last fold
    fold_cycles: int
    resident: dict[str, bool]
    spilled_partial_sums: bool

    @property
    def read_bytes(self) -> np.ndarray:
        return self.first_fetch + self.window_reads.sum(axis=0)

    @property
    def write_bytes(self) -> np.ndarray:
        return self.window_writes.sum(axis=0) + self.final_drain


@dataclass(frozen=True)
class MemoryTiming:
    first_fetch_cycles: int
    """Cycles before fold 0 waiting for the layer's first data."""
    stall_cycles: int
    """Cycles between folds waiting for a window's transfers."""
    final_drain_cycles: int
    """Cycles after the last fold until its outputs (and the last window's drains) are written."""
    hideable_first_fetch_cycles: int
    """Of the first fetch, the cycles that vanish when the weights are already on chip."""
    prefetch_window_cycles: int
    """Cycles of the last fold in which the DRAM ports are idle: the next layer may fetch its weights then."""


def _blocks(total: int, size: int) -> np.ndarray:
    count = math.ceil(total / size)
    return np.minimum(size, total - np.arange(count) * size)


def walk_traffic(arch: Arch, stationary: str, shape: GemmShape, input_bytes: float, fold_cycles: int
                 ) -> DramTraffic:
    """The DRAM bytes of every fold of one layer (see the module docstring)."""
    rows, cols = arch.pe_array.rows, arch.pe_array.cols
    act, weight, acc = arch.data.activation_bits / 8, arch.data.weight_bits / 8, arch.data.accumulator_bits / 8
    m, red, k = shape.m, shape.reduction, shape.k
    span_rows, span_cols = {"os": (m, k), "ws": (red, k), "is": (red, m)}[stationary]
    r_blocks, c_blocks = _blocks(span_rows, rows), _blocks(span_cols, cols)
    rf, cf = r_blocks.size, c_blocks.size
    i = np.tile(np.arange(rf), cf)  # row fold of each fold in one group (row folds inner)
    j = np.repeat(np.arange(cf), rf)  # column fold
    r, c = r_blocks[i].astype(float), c_blocks[j].astype(float)
    group_input = input_bytes / shape.count
    if stationary == "os":
        ifmap_block, ifmap_key = group_input * r / m, i
        filter_block, filter_key = red * c * weight, j
        outputs, final = r * c * act, np.ones(i.size, dtype=bool)
        partials = np.zeros(i.size)
    elif stationary == "ws":
        filter_block, filter_key = r * c * weight, i * cf + j
        ifmap_block, ifmap_key = group_input * r / red, i
        outputs, final = m * c * act, i == rf - 1
        partials = m * c * acc
    else:
        ifmap_block, ifmap_key = group_input * r * c / (red * m), i * cf + j
        filter_block, filter_key = r * k * weight, i
        outputs, final = k * c * act, i == rf - 1
        partials = k * c * acc
    halves = {port: arch.memory[LEVEL_OF_PORT[port]].buffer_bytes for port in PORTS}
    resident = {"ifmap": group_input <= halves["ifmap"], "filter": red * k * weight <= halves["filter"]}
    # One group's folds: what each fold must fetch (the first fold of a group fetches its resident operands whole).
    need = np.zeros((i.size, 3))
    for port, block, key in (("ifmap", ifmap_block, ifmap_key), ("filter", filter_block, filter_key)):
        column = PORTS.index(port)
        if resident[port]:
            need[0, column] = group_input if port == "ifmap" else red * k * weight
            continue
        changed = np.ones(i.size, dtype=bool)
        changed[1:] = key[1:] != key[:-1]
        need[:, column] = np.where(changed | (block > halves[port]), block, 0.0)
    spills = stationary != "os" and rf > 1 and float(partials.max(initial=0.0)) > halves["ofmap"]
    spill_writes = np.where(spills & (i < rf - 1), partials, 0.0)  # a row fold's partials, unless final
    spill_reads = np.where(spills & (i > 0), partials, 0.0)  # the previous row fold's, read back
    finished = np.where(final, outputs, 0.0)  # outputs a fold finishes, drained in the next window
    # Every group repeats the fold pattern; fold f's needs are fetched in window f - 1 (fold 0's: the first fetch).
    needs = np.tile(need, (shape.count, 1))
    folds = needs.shape[0]
    window_reads = np.zeros((folds, 3))
    window_reads[:-1] = needs[1:]
    window_reads[:, 2] += np.tile(spill_reads, shape.count)
    window_writes = np.zeros((folds, 3))
    window_writes[1:, 2] = np.tile(finished, shape.count)[:-1]
    window_writes[:, 2] += np.tile(spill_writes, shape.count)
    final_drain = np.array([0.0, 0.0, float(finished[-1])])
    return DramTraffic(first_fetch=needs[0].copy(), window_reads=window_reads, window_writes=window_writes,
                       final_drain=final_drain, fold_cycles=fold_cycles, resident=resident,
                       spilled_partial_sums=bool(spills))


def transfer_cycles(arch: Arch, bytes_by_port: np.ndarray) -> np.ndarray:
    """Cycles to move `bytes_by_port` (..., 3): ports with their own bandwidth in parallel, the rest one after
    another on the shared dram bandwidth (unlimited when the arch gives none)."""
    times = []
    shared = np.zeros(bytes_by_port.shape[:-1])
    for column, port in enumerate(PORTS):
        own = arch.memory[LEVEL_OF_PORT[port]].port_bandwidth_bytes_per_cycle
        if own is not None:
            times.append(bytes_by_port[..., column] / own)
        else:
            shared = shared + bytes_by_port[..., column]
    bandwidth = arch.bytes_per_cycle("dram")
    times.append(shared / bandwidth if bandwidth is not None else 0.0 * shared)
    return np.max(np.stack(times), axis=0)


def memory_timing(arch: Arch, traffic: DramTraffic) -> MemoryTiming:
    """When the array waits for DRAM, fold by fold (see the module docstring).

    Fetches (operands for the next fold, partial sums read back for this one) must arrive within their window: fold
    w + 1 starts when fold w and its window's fetches are done. Writes (finished outputs, spilled partial sums)
    queue in the ofmap SRAM, which drains continuously on what bandwidth the fetches leave: the array waits only
    when the queue would overflow the SRAM, and the layer ends when the queue is empty."""
    fold = float(traffic.fold_cycles)
    fetch = transfer_cycles(arch, traffic.window_reads)
    window = np.maximum(fetch, fold)  # the window lasts the fold, or longer when fetches outlast it
    waits = window - fold
    writes = traffic.window_writes.sum(axis=1)
    drained = _drain_capacity(arch, traffic, window, fetch)
    capacity = float(arch.memory["ofmap_sram"].capacity_bytes)
    if np.all(writes <= drained + 1e-9):  # no window writes more than it drains: nothing accumulates
        backlog = 0.0
    else:
        backlog, waits = _queue(writes, drained, window, waits, capacity, _drain_rate(arch))
    # (the last window fetches nothing for a next fold, but its partial sums read back still hold its own fold)
    stall = float(np.cumsum(waits)[-1]) if waits.size else 0.0  # in fold order, as a loop would add them
    rate = _drain_rate(arch)
    leftover = backlog + float(traffic.final_drain.sum())
    drain = leftover / rate if rate else 0.0
    first = float(transfer_cycles(arch, traffic.first_fetch))
    without_weights = traffic.first_fetch.copy()
    without_weights[PORTS.index("filter")] = 0.0
    hideable = first - float(transfer_cycles(arch, without_weights))
    free = _free_for_weights(arch, fold, traffic, float(writes[-1]), backlog)
    return MemoryTiming(first_fetch_cycles=_cycles(first), stall_cycles=_cycles(stall),
                        final_drain_cycles=_cycles(drain), hideable_first_fetch_cycles=math.floor(hideable + 1e-9),
                        prefetch_window_cycles=math.floor(max(free, 0.0)))


def _free_for_weights(arch: Arch, fold: float, traffic: DramTraffic, last_writes: float, backlog: float) -> float:
    """Cycles of the last fold in which the next layer's weights could stream in: the whole fold on a filter port of
    its own; on the shared channel, what the last window's own fetches and drains leave."""
    if arch.memory["filter_sram"].port_bandwidth_bytes_per_cycle is not None:
        return fold
    busy = float(transfer_cycles(arch, traffic.window_reads[-1]))
    rate = _drain_rate(arch)
    if rate and arch.memory["ofmap_sram"].port_bandwidth_bytes_per_cycle is None:
        busy += (last_writes + backlog) / rate
    return fold - busy


def _drain_rate(arch: Arch) -> float | None:
    """Bytes per cycle the ofmap SRAM drains at when nothing else moves (None: unlimited)."""
    own = arch.memory["ofmap_sram"].port_bandwidth_bytes_per_cycle
    return own if own is not None else arch.bytes_per_cycle("dram")


def _drain_capacity(arch: Arch, traffic: DramTraffic, window: np.ndarray, fetch: np.ndarray) -> np.ndarray:
    """Bytes the ofmap SRAM can drain in each window: on its own port, what that port's reads (partial sums read
    back) leave of the window; on the shared channel, what all fetches leave."""
    rate = _drain_rate(arch)
    if rate is None:
        return np.full(window.shape, np.inf)
    if arch.memory["ofmap_sram"].port_bandwidth_bytes_per_cycle is not None:
        busy = traffic.window_reads[:, PORTS.index("ofmap")] / rate
    else:
        busy = fetch
    return np.maximum(window - busy, 0.0) * rate


def _queue(writes: np.ndarray, drained: np.ndarray, window: np.ndarray, waits: np.ndarray, capacity: float,
           rate: float) -> tuple[float, np.ndarray]:
    """The ofmap SRAM as a queue, window by window: each window adds the writes of its fold and drains what it can;
    when the queue would exceed the SRAM, the array waits for it to drain. Returns the backlog after the last
    window and the waits with those overflow waits added."""
    waits = waits.copy()
    backlog = 0.0
    for w in range(writes.size):
        backlog = max(backlog + writes[w] - drained[w], 0.0)
        if backlog > capacity:
            waits[w] += (backlog - capacity) / rate
            backlog = capacity
    return backlog, waits


def _cycles(value: float) -> int:
    return math.ceil(value - 1e-9)
