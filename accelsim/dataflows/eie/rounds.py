"""One layer through EIE: lay out every group's weights in interleaved CSC (with every weight stored, as the dense
reference does, a closed form of the shape), then run every vector's rounds and, when asked, compute the output with
the layer's codebook.

A machine that broadcasts zero activations too (the dense reference) gives every vector the same sequence of
broadcasts, so every vector's rounds are the same: they are run once and counted once per vector (exact, not an
average; tests/test_eie_events_jit.py checks it against the walk of every vector). The codebook and the effectual
MACs depend on the layer alone: a run computes them once for the layer and its dense reference."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.eie import layout_jit, rounds_jit
from accelsim.dataflows.eie.counters import N_COUNTERS
from accelsim.dataflows.eie.problems import MatrixVectorProblem
from accelsim.dataflows.shared.weight_sharing import Codebook, codebook_from_histogram, fixed_point_scale
from accelsim.dataflows.shared.weight_sharing_jit import fixed_point_histogram
from accelsim.formats.runs import max_run_for
from accelsim.workload import Layer

FIXED_POINT_BITS = 16


@dataclass(frozen=True)
class LayerRun:
    counters: np.ndarray
    """accelsim.dataflows.eie.counters, summed over the groups."""
    codebook: Codebook
    effectual_macs: int
    batches: list[int]
    """Output batches of each group."""
    stored: int
    """Entries stored, padding included."""
    padding: int
    entries_per_pe: np.ndarray
    """Entries each PE stores, all groups at once."""
    pointers_per_pe: int
    outputs: list[np.ndarray]
    """(vectors x outputs) per group, with compute_output; else empty."""


@dataclass(frozen=True)
class _Layout:
    pairs: tuple
    """column_pairs' arrays: column_start, pair_pe, pair_entries, pair_first, pair_last, pair_offset, column_real,
    column_padding, column_lines, pe_entries."""
    entries: np.ndarray | None
    """(batches, PEs, columns) stored entries, kept to fill in the entries for the output."""
    batches: int


_PER_LAYER: weakref.WeakKeyDictionary[Layer, dict] = weakref.WeakKeyDictionary()
"""What a layer's sparse run and its dense reference share: the codebook and the effectual MACs."""


def run_layer(layer: Layer, problems: list[MatrixVectorProblem], pes: int, rows_per_batch: int, config,
              spmat_width_bits: int, compute_output: bool) -> LayerRun:
    """`config` is the EIE dataflow's Config; `problems` are the layer's (accelsim.dataflows.eie.problems)."""
    max_run = max_run_for(config.relative_index_bits)
    line_entries = spmat_width_bits // (config.weight_index_bits + config.relative_index_bits)
    store_zeros = not config.skip_zero_weights
    layouts, nonzero_weights, nonzeros_per_column = [], [], []
    for problem in problems:
        if store_zeros:  # every weight stored: a closed form of the shape, no pass over the weights
            entries, padding, first_row, last_row = dense_layout(problem.n_outputs, problem.n_inputs, pes,
                                                                 rows_per_batch)
            nonzeros_per_column.append(None)
        else:  # one pass over the weights for the layout, the codebook's weights and the effectual MACs
            entries, padding, first_row, last_row, nonzeros, values, _, _ = layout_jit.scan_weights(
                problem.weight, pes, rows_per_batch, max_run, store_zeros)
            nonzero_weights.append(values)
            nonzeros_per_column.append(nonzeros)
        pairs = layout_jit.column_pairs(entries, padding, first_row, last_row, line_entries)
        layouts.append(_Layout(pairs, entries if compute_output else None, entries.shape[0]))
    codebook = layer_codebook(layer, config.weight_index_bits,
                              lambda: np.concatenate(nonzero_weights) if nonzero_weights else layer.weight)
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    outputs = []
    sequences = []
    scan_row_width = pes if config.activation_scan == "rows" else 0
    for problem, layout in zip(problems, layouts, strict=True):
        column_start, pair_pe, pair_entries, pair_first, pair_last, pair_offset = layout.pairs[:6]
        column_totals = layout.pairs[6:9]
        timing = (problem.n_inputs, column_start, pair_pe, pair_entries, pair_first, pair_last, *column_totals, pes,
                  config.fifo_depth, scan_row_width)
        vector_start = columns = values = None
        if config.skip_zero_activations or compute_output:
            vector_start, columns, values = problem.nonzero_activations(compute_output)
        if config.skip_zero_activations:
            rounds_jit.simulate_rounds(vector_start, columns, *timing, counters)
        else:  # every vector broadcasts every column: one vector's rounds, once per vector
            every_column = np.arange(problem.n_inputs, dtype=np.int32)
            one_vector = np.zeros(N_COUNTERS, dtype=np.int64)
            rounds_jit.simulate_rounds(np.array([0, problem.n_inputs]), every_column, *timing, one_vector)
            counters += problem.n_vectors * one_vector
        sequences.append(columns)
        if compute_output:
            codes, rows = layout_jit.fill_entries(problem.weight, pes, rows_per_batch, max_run, store_zeros,
                                                  layout.entries, codebook.scale, codebook.levels,
                                                  codebook.level_to_code)
            out = np.zeros((problem.n_vectors, problem.n_outputs))
            rounds_jit.accumulate_output(vector_start, columns, values, problem.n_inputs, column_start, pair_pe,
                                         pair_entries, pair_offset, codes, rows, codebook.values, pes,
                                         rows_per_batch, out)
            outputs.append(out)
    pe_entries = [layout.pairs[9] for layout in layouts]
    return LayerRun(
        counters=counters, codebook=codebook,
        effectual_macs=layer_effectual_macs(layer, problems, sequences, nonzeros_per_column),
        batches=[layout.batches for layout in layouts], stored=int(sum(entries.sum() for entries in pe_entries)),
        padding=int(sum(layout.pairs[7].sum() for layout in layouts)),
        entries_per_pe=np.sum(pe_entries, axis=0),
        pointers_per_pe=sum(layout.batches * (problem.n_inputs + 1)
                            for problem, layout in zip(problems, layouts, strict=True)),
        outputs=outputs)


def dense_layout(n_rows: int, n_cols: int, n_pes: int, rows_per_batch: int) -> tuple[np.ndarray, ...]:
    """layout_jit.scan_weights' first four arrays when every weight is stored: PE p holds the rows i = p mod n_pes,
    consecutive local rows, so no zero run needs padding; every column of a (batch, PE) holds the same rows."""
    local_rows = -(-n_rows // n_pes)
    batches = max(-(-local_rows // rows_per_batch), 1)
    pe_rows = (n_rows - np.arange(n_pes) + n_pes - 1) // n_pes  # local rows of each PE
    per_batch = np.clip(pe_rows[None, :] - rows_per_batch * np.arange(batches)[:, None], 0, rows_per_batch)
    shape = (batches, n_pes, n_cols)
    entries = np.ascontiguousarray(np.broadcast_to(per_batch[:, :, None], shape), dtype=np.int32)
    first_row = np.where(entries > 0, 0, -1).astype(np.int32)
    return entries, np.zeros(shape, dtype=np.int32), first_row, (entries - 1).astype(np.int32)


def layer_codebook(layer: Layer, index_bits: int, weights: Callable[[], np.ndarray]) -> Codebook:
    """The layer's codebook, fitted to the fixed-point levels of all its nonzero weights (`weights()`: the layer's
    weight, or only its nonzeros, which give the same scale and histogram); remembered per layer (layers are
    immutable), as a run fits it again for its dense reference, whose weights are the same."""
    known = _PER_LAYER.setdefault(layer, {})
    if ("codebook", index_bits) not in known:
        flat = np.ascontiguousarray(weights()).reshape(1, -1)
        scale = fixed_point_scale(flat, FIXED_POINT_BITS)
        histogram = fixed_point_histogram(flat, scale, 1 << FIXED_POINT_BITS)
        known["codebook", index_bits] = codebook_from_histogram(histogram, scale, index_bits=index_bits)
    return known["codebook", index_bits]


def layer_effectual_macs(layer: Layer, problems: list[MatrixVectorProblem], sequences: list,
                         nonzeros_per_column: list) -> int:
    """Nonzero weights met by nonzero activations, from each problem's nonzero activations and nonzero weights per
    column (None where not at hand: listed or counted here); remembered per layer, as effectual_macs is."""
    known = _PER_LAYER.setdefault(layer, {})
    if "effectual_macs" not in known:
        total = 0
        for problem, columns, nonzeros in zip(problems, sequences, nonzeros_per_column, strict=True):
            if columns is None:
                columns = problem.nonzero_activations(False)[1]
            if nonzeros is None:
                nonzeros = np.count_nonzero(problem.weight, axis=0).T.ravel()  # column tap * cg + c
            total += int(rounds_jit.effectual_macs(columns, nonzeros))
        known["effectual_macs"] = total
    return known["effectual_macs"]
