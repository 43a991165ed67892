"""EIE kernels, jitted and as pure Python (`.py_func`): the layout against accelsim.formats.eie (a separate numpy
implementation), and the rounds against 4-PE examples worked out by hand, both as the cycle-by-cycle walk
(cycle_walk_jit) and as the event-driven kernels simulate runs (layout_jit, sequence_jit, rounds_jit)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.dataflows.eie import counters as counter
from accelsim.dataflows.eie import cycle_walk_jit as k
from accelsim.dataflows.eie import layout_jit, rounds_jit, sequence_jit
from accelsim.dataflows.shared.weight_sharing_jit import fixed_point_histogram
from accelsim.formats import eie as eie_format

VARIANTS = ("jit", "py")
LEVELS = 1 << 16


def call(kernel, variant, *args):
    # Under NUMBA_DISABLE_JIT=1 kernels are plain functions without .py_func.
    return (kernel if variant == "jit" else getattr(kernel, "py_func", kernel))(*args)


def stats(variant, matrix, n_pes, rows_per_batch=1 << 20, max_run=15, store_zeros=False):
    histogram = np.zeros(LEVELS, dtype=np.int64)
    return call(k.column_stats, variant, matrix, n_pes, rows_per_batch, max_run, store_zeros, 1.0, histogram)


def starts_of(entries):
    starts = np.zeros(entries.size + 1, dtype=np.int64)
    np.cumsum(entries.ravel(), out=starts[1:])
    return starts[:-1].reshape(entries.shape), int(starts[-1])


@pytest.mark.parametrize("variant", VARIANTS)
def test_column_stats_of_the_papers_column(variant):
    # Han et al., Sec. III-B: column [0, 0, 1, 2, 18 zeros, 3] is v = [1, 2, 0, 3], z = [2, 0, 15, 2]:
    # four entries, one of them padding; the padding entry stands for local row 4 + 15 = 19.
    column = np.zeros((23, 1))
    column[2, 0], column[3, 0], column[22, 0] = 1, 2, 3
    entries, padding, first_row, last_row = stats(variant, column, 1)
    assert (entries[0, 0, 0], padding[0, 0, 0], first_row[0, 0, 0], last_row[0, 0, 0]) == (4, 1, 2, 22)


@pytest.mark.parametrize("variant", VARIANTS)
def test_first_entry_is_padding_when_the_column_starts_with_a_long_run(variant):
    column = np.zeros((40, 1))
    column[33, 0] = 1.0  # 33 zeros before it: padding at rows 15 and 31, then the nonzero with z = 1
    entries, padding, first_row, _ = stats(variant, column, 1)
    assert (entries[0, 0, 0], padding[0, 0, 0], first_row[0, 0, 0]) == (3, 2, 15)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("shape", "n_pes", "density", "index_bits"),
                         [((37, 11), 4, 0.1, 4), ((64, 9), 8, 0.03, 2), ((5, 7), 8, 0.5, 4), ((50, 20), 3, 0.2, 1)])
def test_column_stats_match_the_eie_format(variant, shape, n_pes, density, index_bits):
    rng = np.random.default_rng(sum(shape) + n_pes)
    matrix = rng.standard_normal(shape) * (rng.random(shape) < density)
    entries, padding, _, _ = stats(variant, matrix, n_pes, max_run=(1 << index_bits) - 1)
    encoded = eie_format.encode(matrix, n_pes=n_pes, index_bits=index_bits, pointer_bits=40)
    np.testing.assert_array_equal(entries[0], np.diff(encoded.col_pointers, axis=1))
    assert int(padding.sum()) == encoded.padding_entries


@pytest.mark.parametrize("variant", VARIANTS)
def test_batches_split_the_local_rows(variant):
    # 2 PEs, 3 local rows per batch: global rows 0..5 are batch 0, rows 6..11 batch 1 (local rows 3..5 -> 0..2).
    matrix = np.zeros((12, 2))
    matrix[0, 0] = matrix[7, 0] = matrix[11, 1] = 1.0
    entries, _, first_row, _ = stats(variant, matrix, 2, rows_per_batch=3)
    assert entries.shape == (2, 2, 2)
    assert entries[0, 0, 0] == 1 and entries[1, 1, 0] == 1 and entries[1, 1, 1] == 1
    assert first_row[1, 1, 0] == 0 and first_row[1, 1, 1] == 2  # row 7: local 3 -> 0; row 11: local 5 -> 2
    assert int(entries.sum()) == 3


@pytest.mark.parametrize("variant", VARIANTS)
def test_store_zeros_keeps_every_weight(variant):
    matrix = np.zeros((9, 4))
    matrix[8, 3] = 1.0
    entries, padding, _, _ = stats(variant, matrix, 2, store_zeros=True)
    assert int(entries.sum()) == 36 and int(padding.sum()) == 0


def test_column_stats_counts_the_fixed_point_histogram():
    matrix = np.array([[0.0, 1.0, -2.0], [2.0, 0.0, 0.26]])
    histogram = np.zeros(16, dtype=np.int64)
    k.column_stats(matrix, 1, 10, 15, False, 0.5, histogram)
    # levels rint(w / 0.5) = 2, -4, 4, 1 (0.52 rounds to 1), stored at level + 8.
    np.testing.assert_array_equal(np.flatnonzero(histogram), [4, 9, 10, 12])
    np.testing.assert_array_equal(histogram, fixed_point_histogram(matrix, 0.5, 16))


@pytest.mark.parametrize("variant", VARIANTS)
def test_fill_entries_decode_to_the_coded_matrix(variant):
    rng = np.random.default_rng(3)
    matrix = np.round(rng.standard_normal((29, 6)) * (rng.random((29, 6)) < 0.15), 1)
    n_pes, rows_per_batch = 3, 4
    entries, _, _, _ = stats(variant, matrix, n_pes, rows_per_batch)
    starts, total = starts_of(entries)
    level_to_code = np.arange(LEVELS, dtype=np.int64) % 7 + 1  # any map: what matters is where each code lands
    codes, rows = call(k.fill_entries, variant, matrix, n_pes, rows_per_batch, 15, False, starts, total, 0.1,
                       LEVELS, level_to_code)
    rebuilt = np.zeros(matrix.shape, dtype=np.int64)
    for b, p, j in np.ndindex(entries.shape):
        for e in range(starts[b, p, j], starts[b, p, j] + entries[b, p, j]):
            rebuilt[(b * rows_per_batch + rows[e]) * n_pes + p, j] += codes[e]
    expected = np.where(matrix != 0, level_to_code[np.rint(matrix / 0.1).astype(np.int64) + LEVELS // 2], 0)
    np.testing.assert_array_equal(rebuilt, expected)


# --- the cycle loop -----------------------------------------------------------------------------------------------
def hand_example():
    """8 x 3 weights on 4 PEs (row i -> PE i mod 4, local row i // 4). Entries per PE and column:
    PE0: col0 rows {0, 1}, col2 row {1};  PE1: col1 rows {0, 1};  PE2: row 0 of col0, col1 and col2;
    PE3: col2 rows {0, 1}. Ten nonzeros; five (PE, column) pairs are empty."""
    w = np.zeros((8, 3))
    for i, j, value in [(0, 0, 1), (4, 0, 2), (2, 0, 3), (1, 1, 4), (5, 1, 5), (2, 1, 6), (4, 2, 7), (2, 2, 8),
                        (3, 2, 9), (7, 2, 10)]:
        w[i, j] = value
    return w


ENGINES = ("walk", "events")


def run_rounds(variant, matrix, vectors, n_pes, fifo_depth, rows_per_batch=64, line_entries=8, skip=True,
               compute_output=False, codebook=None, scan_row_width=None, engine="walk"):
    """The rounds of `matrix` x each vector, walked cycle by cycle or event by event; the CCU scans rows of n_pes
    activations unless told otherwise."""
    width = n_pes if scan_row_width is None else scan_row_width
    if codebook is None:
        codebook = {"values": np.zeros(1), "level_to_code": np.zeros(LEVELS, dtype=np.int64)}
    out = np.zeros((vectors.shape[0], matrix.shape[0]))
    if engine == "events":
        return run_events(variant, matrix, vectors, n_pes, fifo_depth, rows_per_batch, line_entries, skip,
                          compute_output, codebook, width, out), out
    entries, padding, first_row, last_row = stats(variant, matrix, n_pes, rows_per_batch)
    starts, total = starts_of(entries)
    per_pe_batch = entries.sum(axis=2)
    base = np.cumsum(per_pe_batch, axis=0) - per_pe_batch
    codes, rows = np.zeros(1, dtype=np.int16), np.zeros(1, dtype=np.int32)
    if compute_output:
        codes, rows = call(k.fill_entries, variant, matrix, n_pes, rows_per_batch, 15, False, starts, total, 1.0,
                           LEVELS, codebook["level_to_code"])
    counters = call(k.simulate_rounds, variant, vectors, entries, padding, first_row, last_row, starts,
                    line_entries, base, fifo_depth, width, skip, rows_per_batch, compute_output, codes, rows,
                    codebook["values"], out)
    return counters, out


def run_events(variant, matrix, vectors, n_pes, fifo_depth, rows_per_batch, line_entries, skip, compute_output,
               codebook, width, out):
    """The event-driven kernels on the same problem; without `skip` every vector broadcasts every column."""
    weight = np.ascontiguousarray(matrix)[:, :, None]
    entries, padding, first_row, last_row, *_ = call(layout_jit.scan_weights, variant, weight, n_pes,
                                                     rows_per_batch, 15, False)
    pairs = call(layout_jit.column_pairs, variant, entries, padding, first_row, last_row, line_entries)
    n_vectors, n_cols = vectors.shape
    vector_start, columns, values = call(sequence_jit.matrix_sequences, variant, vectors, True)
    counters = np.zeros(counter.N_COUNTERS, dtype=np.int64)
    if skip:
        sequence = vector_start, columns
    else:
        sequence = np.arange(n_vectors + 1) * n_cols, np.tile(np.arange(n_cols, dtype=np.int32), n_vectors)
    call(rounds_jit.simulate_rounds, variant, *sequence, n_cols, *pairs[:5], *pairs[6:9], n_pes, fifo_depth, width,
         counters)
    if compute_output:
        codes, rows = call(layout_jit.fill_entries, variant, weight, n_pes, rows_per_batch, 15, False, entries, 1.0,
                           LEVELS, codebook["level_to_code"])
        call(rounds_jit.accumulate_output, variant, vector_start, columns, values, n_cols, pairs[0], pairs[1],
             pairs[2], pairs[5], codes, rows, codebook["values"], n_pes, rows_per_batch, out)
    return counters


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("scan_row_width", [4, 0])
def test_hand_example_fifo_depth_1(variant, scan_row_width, engine):
    # Worked by hand (one broadcast per cycle, a full FIFO refuses even when emptied in the same cycle):
    # c0 broadcast col0, PEs idle | c1 stall; all pop col0 (PE1, PE3 empty columns) | c2 broadcast col1; PE0 busy
    # | c3 stall; all pop col1 | c4 broadcast col2; PE1 busy | c5 all pop col2 | c6 PE3 busy | done: 7 cycles.
    # Scanning rows of 4, the three activations are one row; leaving it (col2 is not its last slot) takes c5,
    # while the PEs are still busy: the same 7 cycles.
    c, _ = run_rounds(variant, hand_example(), np.ones((1, 3)), 4, 1, scan_row_width=scan_row_width, engine=engine)
    assert c[counter.CYCLES] == 7
    assert c[counter.BROADCASTS] == 3
    assert c[counter.BROADCAST_STALL_CYCLES] == 2
    assert c[counter.ENTRY_CYCLES] == 10 and c[counter.PADDING_CYCLES] == 0
    assert c[counter.EMPTY_COLUMN_CYCLES] == 5
    assert c[counter.FIFO_EMPTY_CYCLES] == 13  # 4 + 0 + 3 + 0 + 3 + 0 + 3 idle PEs in cycles 0..6
    assert c[counter.POINTER_READS] == 12
    assert c[counter.ACCUMULATOR_BYPASSES] == 0  # PE2's pops are two cycles apart
    assert c[counter.SPMAT_LINE_READS] == 7  # PE0: 2 columns, PE1: 1, PE2: 3, PE3: 1
    assert c[counter.ROUNDS] == 1
    assert c[counter.SCAN_CYCLES] == (1 if scan_row_width else 0) and c[counter.SCAN_STARVED_PE_CYCLES] == 0


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_hand_example_fifo_depth_2(variant, engine):
    # c0 broadcast col0 | c1 broadcast col1; pop col0 | c2 broadcast col2; PE0 busy, PE1-3 pop col1
    # | c3 PE0 pops col1 (empty), PE1 busy, PE2 and PE3 pop col2 | c4 PE0 pops col2, PE1 pops col2 (empty),
    # PE2 idle, PE3 busy | done: 5 cycles, idle 4 + 1.
    c, _ = run_rounds(variant, hand_example(), np.ones((1, 3)), 4, 2, engine=engine)
    assert c[counter.CYCLES] == 5
    assert c[counter.BROADCAST_STALL_CYCLES] == 0
    assert c[counter.FIFO_EMPTY_CYCLES] == 5
    # PE2 accumulates into local row 0 in cycles 1, 2 and 3: the second and third are forwarded. PE0's col2
    # (row 1) follows an empty column, not an accumulation of row 1, so it is read.
    assert c[counter.ACCUMULATOR_BYPASSES] == 2


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_zero_activations_are_skipped_or_broadcast(variant, engine):
    vector = np.array([[2.0, 0.0, 0.0]])
    skipped, _ = run_rounds(variant, hand_example(), vector, 4, 2, engine=engine)
    # Only col0 is broadcast: c0 broadcast | c1 pop (PE0 has 2 entries) | c2 PE0 busy | done.
    assert (skipped[counter.CYCLES], skipped[counter.BROADCASTS], skipped[counter.ENTRY_CYCLES]) == (3, 1, 3)
    dense, _ = run_rounds(variant, hand_example(), vector, 4, 2, skip=False, engine=engine)
    assert dense[counter.BROADCASTS] == 3 and dense[counter.CYCLES] == 5


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_rounds_compute_the_product(variant, engine):
    rng = np.random.default_rng(11)
    matrix = np.rint(rng.standard_normal((23, 17)) * 4) * (rng.random((23, 17)) < 0.3)
    vectors = rng.standard_normal((3, 17)) * (rng.random((3, 17)) < 0.5)
    identity = {"values": np.arange(-40, 41, dtype=np.float64),  # code c decodes to c - 40: exact integers
                "level_to_code": np.clip(np.arange(LEVELS) - LEVELS // 2 + 40, 0, 80)}
    c, out = run_rounds(variant, matrix, vectors, 4, 3, rows_per_batch=2, compute_output=True, codebook=identity,
                        engine=engine)
    np.testing.assert_allclose(out, vectors @ matrix.T, atol=1e-12)
    assert c[counter.ROUNDS] == 3 * 3  # 23 rows on 4 PEs: 6 local rows, batches of 2


def random_problem(seed, lowest_input_density):
    """A random matrix of 1..29 x 1..29 and two vectors, at random densities."""
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(1, 30), rng.integers(1, 30)
    matrix = rng.standard_normal((rows, cols)) * (rng.random((rows, cols)) < rng.uniform(0.05, 0.9))
    vectors = rng.standard_normal((2, cols)) * (rng.random((2, cols)) < rng.uniform(lowest_input_density, 1.0))
    return matrix, vectors


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_pes=st.integers(1, 6), depth=st.integers(1, 6))
def test_a_deeper_fifo_never_adds_cycles(seed, n_pes, depth, engine):
    matrix, vectors = random_problem(seed, 0.1)
    shallow, _ = run_rounds("jit", matrix, vectors, n_pes, depth, engine=engine)
    deeper, _ = run_rounds("jit", matrix, vectors, n_pes, depth + 1, engine=engine)
    assert deeper[counter.CYCLES] <= shallow[counter.CYCLES]
    # Every PE-cycle is an entry, a padding entry, an empty column's pointer read or an idle cycle.
    for c in (shallow, deeper):
        assert n_pes * c[counter.CYCLES] == (c[counter.ENTRY_CYCLES] + c[counter.PADDING_CYCLES]
                                             + c[counter.EMPTY_COLUMN_CYCLES] + c[counter.FIFO_EMPTY_CYCLES])


# --- the activation scan ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("nonzeros", "n_cols", "expected"), [
    # Rows of 4 slots. 1 and 3 are in row 0 and 3 is its last slot, so the scan is in row 1 after it; row 1 is
    # empty (one cycle); 9 is in row 2; leaving row 2 after it takes one more cycle.
    ([1, 3, 9], 12, [0, 0, 1, 1]),
    ([6], 12, [1, 2]),  # row 0 empty (one cycle); after 6, leaving row 1 and the empty row 2: two cycles
    ([], 12, [3]),  # nothing to broadcast: three empty rows
    ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 10, [0] * 10 + [1]),  # all broadcast: only the partial last row is left
])
def test_scan_gaps_worked_by_hand(variant, nonzeros, n_cols, expected):
    sequence = np.array(nonzeros + [0] * (n_cols - len(nonzeros)), dtype=np.int64)
    gaps = np.full(n_cols + 1, -1, dtype=np.int64)
    call(k.scan_gaps, variant, sequence, len(nonzeros), n_cols, 4, gaps)
    np.testing.assert_array_equal(gaps[: len(nonzeros) + 1], expected)
    call(k.scan_gaps, variant, sequence, len(nonzeros), n_cols, 0, gaps)  # an ideal scan never waits
    assert not gaps[: len(nonzeros) + 1].any()


def ones_example():
    """4 x 8 ones on 4 PEs: each PE holds one local row, one entry in every column."""
    return np.ones((4, 8))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_a_scan_cycle_between_rows_starves_the_pes(variant, engine):
    # Activations 0 and 5: rows 0 and 1 of 4 slots. c0 broadcast col0, PEs idle (fill) | c1 the scan leaves row 0,
    # nothing broadcast; PEs do col0 | c2 broadcast col5; PEs idle: starved by the scan | c3 the scan leaves row 1
    # (the last); PEs do col5 | done: 4 cycles. An ideal CCU broadcasts col5 in c1: 3 cycles.
    vector = np.zeros((1, 8))
    vector[0, [0, 5]] = 1.0
    c, _ = run_rounds(variant, ones_example(), vector, 4, 4, engine=engine)
    assert (c[counter.CYCLES], c[counter.SCAN_CYCLES], c[counter.BROADCASTS], c[counter.ENTRY_CYCLES]) == (4, 2, 2, 8)
    assert c[counter.FIFO_EMPTY_CYCLES] == 8 and c[counter.SCAN_STARVED_PE_CYCLES] == 4  # c0 and c2; c2 is the scan's
    assert c[counter.STARTED_ROUNDS] == c[counter.ACTIVE_ROUNDS] == 1
    ideal, _ = run_rounds(variant, ones_example(), vector, 4, 4, scan_row_width=0, engine=engine)
    assert (ideal[counter.CYCLES], ideal[counter.SCAN_CYCLES], ideal[counter.FIFO_EMPTY_CYCLES]) == (3, 0, 4)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_scan_of_trailing_empty_rows_ends_the_round(variant, engine):
    # Activation 0 of 12 (three rows of 4): c0 broadcast | c1 the scan leaves row 0; PEs do col0 | c2, c3 the scan
    # passes the empty rows 1 and 2 while the PEs, done, wait | done: 4 cycles, 8 of the idle PE-cycles the scan's.
    vector = np.zeros((1, 12))
    vector[0, 0] = 1.0
    c, _ = run_rounds(variant, np.ones((4, 12)), vector, 4, 8, engine=engine)
    assert (c[counter.CYCLES], c[counter.SCAN_CYCLES], c[counter.FIFO_EMPTY_CYCLES],
            c[counter.SCAN_STARVED_PE_CYCLES]) == (4, 3, 12, 8)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_an_empty_vector_costs_its_scan(variant, engine):
    # Nothing to broadcast: the scan still passes the two rows, c0 (the round's first cycle) and c1.
    c, _ = run_rounds(variant, ones_example(), np.zeros((1, 8)), 4, 8, engine=engine)
    assert (c[counter.CYCLES], c[counter.SCAN_CYCLES], c[counter.STARTED_ROUNDS],
            c[counter.ACTIVE_ROUNDS]) == (2, 2, 1, 0)
    assert c[counter.FIFO_EMPTY_CYCLES] == 8 and c[counter.SCAN_STARVED_PE_CYCLES] == 4
    ideal, _ = run_rounds(variant, ones_example(), np.zeros((1, 8)), 4, 8, scan_row_width=0, engine=engine)
    assert ideal[counter.CYCLES] == 0 and ideal[counter.STARTED_ROUNDS] == 0


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_pes=st.integers(1, 6), depth=st.integers(1, 6))
def test_scanning_rows_never_saves_cycles(seed, n_pes, depth, engine):
    matrix, vectors = random_problem(seed, 0.0)
    rows_scan, _ = run_rounds("jit", matrix, vectors, n_pes, depth, engine=engine)
    ideal, _ = run_rounds("jit", matrix, vectors, n_pes, depth, scan_row_width=0, engine=engine)
    assert rows_scan[counter.CYCLES] >= ideal[counter.CYCLES]
    assert rows_scan[counter.ENTRY_CYCLES] == ideal[counter.ENTRY_CYCLES]  # the same work, only its timing differs
    idle_after_fill = rows_scan[counter.FIFO_EMPTY_CYCLES] - n_pes * rows_scan[counter.STARTED_ROUNDS]
    assert rows_scan[counter.SCAN_STARVED_PE_CYCLES] <= idle_after_fill
