"""What EIE's round kernels count: indices into the int64 counter array that both the event-driven kernel
(accelsim.dataflows.eie.rounds_jit) and the cycle-by-cycle reference walk (cycle_walk_jit) fill, and that
accelsim.dataflows.eie.dataflow turns into a LayerResult."""

CYCLES = 0
BROADCASTS = 1
BROADCAST_STALL_CYCLES = 2
ENTRY_CYCLES = 3
PADDING_CYCLES = 4
EMPTY_COLUMN_CYCLES = 5
FIFO_EMPTY_CYCLES = 6
SPMAT_LINE_READS = 7
POINTER_READS = 8
ACCUMULATOR_BYPASSES = 9
ROUNDS = 10
ACTIVE_ROUNDS = 11  # rounds that broadcast at least one activation
STARTED_ROUNDS = 12  # rounds that took at least one cycle (with an ideal scan, the active ones)
SCAN_CYCLES = 13  # cycles the CCU spent moving to the next activation row, broadcasting nothing
SCAN_STARVED_PE_CYCLES = 14  # PE-cycles idle with an empty FIFO right after such a cycle that could have broadcast
N_COUNTERS = 15
