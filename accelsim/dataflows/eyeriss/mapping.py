"""Row stationary (Eyeriss v1) and row stationary plus (Eyeriss v2): how a layer's work is laid onto the PE grid.

Reduction. Each output needs, for every channel block cb (C0 channels) and filter row r, one PE's row
convolution: the reduction items (cb, r), ordered cb-major. A column of the grid accumulates psums downwards, so
items run as one chain: filter rows in consecutive PEs as in RS, channel blocks stacked below (RS+: "spatial
tiling over any dimension"); a 1 x 1 layer chains channel blocks only. Items beyond the chain's length are done in
slices (passes) whose psums wait in the GLB; a chain shorter than the grid leaves room for several chains in one
column. The length (whole filter rows, at most the grid's height) is the one whose estimated time is least.

Outputs. A chain job is one image n, one output row p, one output-channel block (M0 channels of one group) and one
slice, over a range of output columns. Weights stay in the PEs as long as they can (weight stationary at the
array level, as the weights come from DRAM): a phase gives each chain slot one (block, slice) and the slot walks
every output row of the strip for it, row after row, its pipelines and psum chain streaming on. Blocks are spread
over the slots; when there are fewer blocks than slots, each block gets several neighbouring slots of one grid row
(its weights multicast along the row, Eyeriss v2's weight NoC being horizontal) that share its rows, and, with
fewer rows than slots, its output columns. Slots of different blocks read the same iacts (multicast across the
row). With the `rows` spread (the default for depthwise layers, as the paper maps them) a block takes every slot
of a phase (its weights broadcast), or as many as it has output positions, and the blocks follow one another.
Slices of a block run in consecutive phases (a slice's psums wait in the GLB for the next); a slot that keeps its
(block, slice) into the next phase (the next strip) keeps its weights. Phases run one after another: the chains
load their next weights together.

Strips. Output rows are cut into strips whose inputs (all channels, halo rows included) fit the GLB's iact space
(half of it when there are several strips: the next strip is fetched while this one computes) and whose live
psums (slices > 1) fit its psum space. Every strip loads the weights again (DRAM -> PE; weights are not kept on
chip). Without any fit, one output row per strip, iacts streamed from DRAM once per block, psums spilled to DRAM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.eyeriss import jobs_jit
from accelsim.dataflows.eyeriss.machine import Machine
from accelsim.dataflows.eyeriss.problem import Problem
from accelsim.dataflows.eyeriss.tiles import Tiles


@dataclass(frozen=True, eq=False)
class Jobs:
    n: np.ndarray
    block: np.ndarray
    slice: np.ndarray
    p: np.ndarray
    q0: np.ndarray
    q1: np.ndarray
    strip: np.ndarray
    slot: np.ndarray
    """Chain slot running the job: stack x columns + column of the grid."""
    phase: np.ndarray
    carry: np.ndarray
    """True where the job goes on from its slot's previous job in the same phase."""
    loads: np.ndarray
    """True where the job's slot loads new weight tiles (its first job of a phase, on a new block or slice)."""

    def __len__(self) -> int:
        return self.n.size


@dataclass(frozen=True, eq=False)
class Mapping:
    tiles: Tiles
    csc_iacts: bool
    items_cb: np.ndarray
    items_r: np.ndarray
    chain_length: int
    slices: int
    stacks: int
    """Chains stacked in one grid column."""
    slots: int
    strips: tuple[tuple[int, int], ...]
    slots_per_block: int
    """Neighbouring slots sharing one block in a phase (rows, then columns, cut between them)."""
    jobs: Jobs
    phases: int
    psum_buffer: np.ndarray
    """(blocks,) positions of psums a PE's psum scratch pad holds."""
    iact_fetches: int
    """Times each strip's iacts come from DRAM (1, or once per block when they overflow the GLB)."""
    psum_spill: bool
    strip_iact_bits: np.ndarray
    """(images, strips) bits of each strip's inputs as they sit in the GLB."""


def resolve_csc_iacts(problem: Problem, machine: Machine) -> bool:
    if machine.csc_iacts == "auto":
        return not bool(np.all(problem.x != 0))
    return machine.csc_iacts == "csc"


def plan_mapping(problem: Problem, machine: Machine, tiles: Tiles) -> Mapping:
    csc = resolve_csc_iacts(problem, machine)
    n_cb = tiles.channel_blocks
    items = np.array([(cb, r) for cb in range(n_cb) for r in range(problem.r)], dtype=np.int64).reshape(-1, 2)
    total = items.shape[0]
    blocks = tiles.block_count.size
    rows_first = getattr(machine.spread, problem.kind) == "rows"
    length = _chain_length(problem, machine, total, blocks, rows_first)
    slices = math.ceil(total / length)
    stacks = machine.rows // length
    slots = stacks * machine.cols
    strip_bits = _row_iact_bits(problem, machine, csc, tiles.c0)
    strips, fetches, spill, strip_iact_bits = _plan_strips(problem, machine, tiles, strip_bits, slices, slots)
    per_block = _slots_per_block(slots, blocks, rows_first, problem.p * problem.q)
    jobs = _jobs(problem, strips, blocks, slices, slots, per_block)
    return Mapping(tiles=tiles, csc_iacts=csc, items_cb=np.ascontiguousarray(items[:, 0]),
                   items_r=np.ascontiguousarray(items[:, 1]), chain_length=length, slices=slices, stacks=stacks,
                   slots=slots, strips=tuple(strips), slots_per_block=per_block, jobs=jobs,
                   phases=int(jobs.phase[-1]) + 1,
                   psum_buffer=np.maximum(1, machine.psum_entries // tiles.block_count).astype(np.int64),
                   iact_fetches=fetches, psum_spill=spill, strip_iact_bits=strip_iact_bits)


def _chain_length(problem: Problem, machine: Machine, items: int, blocks: int, rows_first: bool) -> int:
    """The chain length (whole filter rows where they fit a column) that minimises an estimate of the layer's
    compute time: phases x positions per slot per phase, every PE-position one unit of work (an estimate used to
    choose the mapping only; the chosen mapping is then walked). Ties go to fewer slices (less psum traffic)."""
    step = problem.r if problem.r <= machine.rows else 1
    candidates = sorted({min(items, length) for length in range(step, machine.rows + 1, step)})
    best, best_cost = candidates[-1], None
    for length in candidates:
        slices = math.ceil(items / length)
        slots = (machine.rows // length) * machine.cols
        per_block = _slots_per_block(slots, blocks, rows_first, problem.p * problem.q)
        row_parts = min(per_block, problem.p)
        column_parts = min(problem.q, max(1, per_block // row_parts))
        phases = math.ceil(blocks / (slots // per_block)) * slices
        cost = (phases * math.ceil(problem.p / row_parts) * math.ceil(problem.q / column_parts), slices)
        if best_cost is None or cost < best_cost:
            best, best_cost = length, cost
    return best


def _slots_per_block(slots: int, blocks: int, rows_first: bool, positions: int) -> int:
    """Slots one block takes in a phase: all of them (rows spread) or an even share (blocks spread), never more
    than it has output positions."""
    return max(1, min(positions, slots if rows_first else slots // blocks))


def input_rows(problem: Problem, p0: int, p1: int) -> np.ndarray:
    """(H,) True for the input rows output rows [p0, p1) read (a 1 x 1 stride-2 layer skips every other row)."""
    rows = (np.arange(p0, p1)[:, None] * problem.stride[0] + np.arange(problem.r)[None, :] * problem.dilation[0]
            - problem.padding[0]).ravel()
    needed = np.zeros(problem.x.shape[3], dtype=bool)
    needed[rows[(rows >= 0) & (rows < needed.size)]] = True
    return needed


def _rows_read(problem: Problem) -> np.ndarray:
    """(P, H) True where output row p reads input row h (input_rows of each single output row)."""
    rows = (np.arange(problem.p)[:, None] * problem.stride[0] + np.arange(problem.r)[None, :] * problem.dilation[0]
            - problem.padding[0])
    reads = np.zeros((problem.p, problem.x.shape[3]), dtype=bool)
    p_index = np.broadcast_to(np.arange(problem.p)[:, None], rows.shape)
    inside = (rows >= 0) & (rows < reads.shape[1])
    reads[p_index[inside], rows[inside]] = True
    return reads


def _row_iact_bits(problem: Problem, machine: Machine, csc: bool, c0: int) -> np.ndarray:
    """(images, H) bits of each input row as it sits in the GLB (all channels): CSC count-data pairs plus one
    address entry per channel block, or uncompressed values."""
    n, g, cg, h, w = problem.x.shape
    if csc:
        return (np.count_nonzero(problem.x, axis=(1, 2, 4)) * machine.pair_bits
                + g * math.ceil(cg / c0) * machine.count_bits)
    return np.full((n, h), g * cg * w * machine.act_bits)


def _plan_strips(problem: Problem, machine: Machine, tiles: Tiles, row_bits: np.ndarray, slices: int, slots: int):
    """(strips, iact fetches per strip, psums spilled, (images, strips) iact bits): the fewest equal strips that fit
    (found by bisection over the strip height: fewer rows never need more room)."""
    blocks = tiles.block_count.size
    reads = _rows_read(problem).astype(np.int64)  # (P, H): 1 where output row p reads input row h

    def plan(rows: int):
        strips = [(p0, min(p0 + rows, problem.p)) for p0 in range(0, problem.p, rows)]
        needed = np.minimum(np.add.reduceat(reads, np.arange(0, problem.p, rows), axis=0), 1)  # (strips, H)
        bits = row_bits @ needed.T  # (images, strips): each strip's input rows (the union of its rows' reads)
        iact_bytes = float(bits.max()) / 8 * (1 if len(strips) == 1 else 2)  # the next strip is fetched meanwhile
        psum_bytes = _live_psum_bytes(problem, machine, tiles, rows, slices, slots, blocks)
        if machine.glb_shared:
            fits = (iact_bytes + psum_bytes <= machine.glb_iact_bytes, True)
        else:
            fits = (iact_bytes <= machine.glb_iact_bytes, psum_bytes <= machine.glb_psum_bytes)
        return strips, bits, fits

    strips, bits, fits = plan(problem.p)
    if all(fits):
        return strips, 1, False, bits
    low, high = 1, problem.p - 1  # the tallest strip that fits lies in [low, high] if any does
    while low < high:
        middle = (low + high + 1) // 2
        if all(plan(middle)[2]):
            low = middle
        else:
            high = middle - 1
    strips, bits, fits = plan(low)
    if all(fits):
        return strips, 1, False, bits
    return strips, 1 if fits[0] else blocks, not fits[1], bits


def _live_psum_bytes(problem: Problem, machine: Machine, tiles: Tiles, rows: int, slices: int, slots: int,
                     blocks: int) -> float:
    """Psums waiting in the GLB between slices: every row of a strip for the blocks in progress at once (a
    capacity estimate, not walked)."""
    if slices == 1:
        return 0.0
    in_flight = min(blocks, slots)
    return tiles.m0 * problem.q * rows * in_flight * machine.psum_bits / 8


def _jobs(problem: Problem, strips, blocks: int, slices: int, slots: int, per_block: int) -> Jobs:
    """Deal the work: for each image and strip, blocks in groups of slots // per_block; for each group, its slices
    one phase each; in a phase, block i of the group takes slots i*per_block ... (i+1)*per_block - 1, which cut its
    rows (and, with fewer rows than slots, its columns) into contiguous ranges, each slot walking its rows in
    order."""
    group = slots // per_block
    cuts = {}  # strip height: (row parts, column parts, row cuts from the strip's top, column cuts)
    for p0, p1 in strips:
        if p1 - p0 not in cuts:
            rows = p1 - p0
            row_parts = min(per_block, rows)
            column_parts = min(problem.q, max(1, per_block // row_parts))
            cuts[rows] = (row_parts, column_parts, np.linspace(0, rows, row_parts + 1).round().astype(np.int64),
                          np.linspace(0, problem.q, column_parts + 1).round().astype(np.int64))
    widest = max(max(cut[0], cut[1]) for cut in cuts.values()) + 1
    row_edges = np.zeros((len(strips), widest), dtype=np.int64)
    column_edges = np.zeros((len(strips), widest), dtype=np.int64)
    row_parts, column_parts = np.zeros(len(strips), dtype=np.int64), np.zeros(len(strips), dtype=np.int64)
    for index, (p0, p1) in enumerate(strips):
        row_parts[index], column_parts[index], rows, columns = cuts[p1 - p0]
        row_edges[index, :rows.size] = p0 + rows
        column_edges[index, :columns.size] = columns
    strip_p0, strip_p1 = (np.array(edge, dtype=np.int64) for edge in zip(*strips, strict=True))
    dealt = jobs_jit.deal_jobs(problem.n, strip_p0, strip_p1, row_parts, column_parts, row_edges, column_edges,
                               blocks, slices, group, per_block)
    arrays = dict(zip(jobs_jit.FIELDS, dealt, strict=True))
    return Jobs(**arrays, carry=_carry(arrays), loads=_loads(arrays, slices))


def _carry(jobs: dict) -> np.ndarray:
    """True for every job but the first of its (phase, slot): jobs of one slot in a phase are consecutive."""
    key = jobs["phase"] * (int(jobs["slot"].max()) + 1) + jobs["slot"]
    carry = np.zeros(key.size, dtype=bool)
    carry[1:] = key[1:] == key[:-1]
    return carry


def _loads(jobs: dict, slices: int) -> np.ndarray:
    """True for the first job of a (phase, slot) whose slot held another (block, slice), or none, before."""
    unit = jobs["block"] * slices + jobs["slice"]
    first = np.flatnonzero(~_carry(jobs))
    slot = jobs["slot"][first]
    order = np.lexsort((jobs["phase"][first], slot))  # each slot's phases in time order
    previous = np.full(first.size, -1)
    same_slot = slot[order][1:] == slot[order][:-1]
    previous[order[1:]] = np.where(same_slot, unit[first][order][:-1], -1)
    loads = np.zeros(unit.size, dtype=bool)
    loads[first] = unit[first] != previous
    return loads
