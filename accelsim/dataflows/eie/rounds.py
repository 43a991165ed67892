"""One layer through EIE: lay out every group's weights (one pass over them, which also collects the nonzero weights
for the layer's codebook), fit the codebook, then run every vector's rounds and, when asked, compute the output.

A machine that broadcasts zero activations too (the dense reference) gives every vector the same sequence of
broadcasts, so every vector's rounds are the same: they are run once and counted once per vector (exact, not an
average; tests/test_eie_events_jit.py checks it against the walk of every vector).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.eie import layout_jit, rounds_jit
from accelsim.dataflows.eie.counters import N_COUNTERS
from accelsim.dataflows.eie.problems import MatrixVectorProblem
from accelsim.dataflows.shared.weight_sharing import Codebook, codebook_from_histogram, fixed_point_scale
from accelsim.dataflows.shared.weight_sharing_jit import fixed_point_histogram
from accelsim.formats.runs import max_run_for

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
    nonzeros_per_column: np.ndarray
    batches: int


def run_layer(problems: list[MatrixVectorProblem], pes: int, rows_per_batch: int, config,
              spmat_width_bits: int, compute_output: bool) -> LayerRun:
    """`config` is the EIE dataflow's Config."""
    max_run = max_run_for(config.relative_index_bits)
    line_entries = spmat_width_bits // (config.weight_index_bits + config.relative_index_bits)
    store_zeros = not config.skip_zero_weights
    layouts, nonzero_weights, smallest, largest = [], [], 0.0, 0.0
    for problem in problems:
        entries, padding, first_row, last_row, nonzeros_per_column, values, low, high = layout_jit.scan_weights(
            problem.weight, pes, rows_per_batch, max_run, store_zeros)
        pairs = layout_jit.column_pairs(entries, padding, first_row, last_row, line_entries)
        layouts.append(_Layout(pairs, entries if compute_output else None, nonzeros_per_column, entries.shape[0]))
        nonzero_weights.append(values)
        smallest, largest = min(smallest, low), max(largest, high)
    # The layer's codebook, from the fixed-point levels of all its nonzero weights.
    scale = fixed_point_scale(np.array([smallest, largest]), FIXED_POINT_BITS)
    histogram = np.zeros(1 << FIXED_POINT_BITS, dtype=np.int64)
    for values in nonzero_weights:
        histogram += fixed_point_histogram(values.reshape(1, -1), scale, histogram.size)
    codebook = codebook_from_histogram(histogram, scale, index_bits=config.weight_index_bits)
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    effectual = 0
    outputs = []
    scan_row_width = pes if config.activation_scan == "rows" else 0
    for problem, layout in zip(problems, layouts, strict=True):
        vector_start, columns, values = problem.nonzero_activations(compute_output)
        effectual += int(rounds_jit.effectual_macs(columns, layout.nonzeros_per_column))
        column_start, pair_pe, pair_entries, pair_first, pair_last, pair_offset = layout.pairs[:6]
        column_totals = layout.pairs[6:9]
        timing = (problem.n_inputs, column_start, pair_pe, pair_entries, pair_first, pair_last, *column_totals, pes,
                  config.fifo_depth, scan_row_width)
        if config.skip_zero_activations:
            rounds_jit.simulate_rounds(vector_start, columns, *timing, counters)
        else:  # every vector broadcasts every column: one vector's rounds, once per vector
            every_column = np.arange(problem.n_inputs, dtype=np.int32)
            one_vector = np.zeros(N_COUNTERS, dtype=np.int64)
            rounds_jit.simulate_rounds(np.array([0, problem.n_inputs]), every_column, *timing, one_vector)
            counters += problem.n_vectors * one_vector
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
        counters=counters, codebook=codebook, effectual_macs=effectual,
        batches=[layout.batches for layout in layouts], stored=int(sum(entries.sum() for entries in pe_entries)),
        padding=int(sum(layout.pairs[7].sum() for layout in layouts)),
        entries_per_pe=np.sum(pe_entries, axis=0),
        pointers_per_pe=sum(layout.batches * (problem.n_inputs + 1)
                            for problem, layout in zip(problems, layouts, strict=True)),
        outputs=outputs)
