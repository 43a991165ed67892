"""SparTen's numba functions apart from the timing walk: packing chunks into SparseMap masks, the layer's outputs
through its chunk joins, and the count of effectual products.

The outputs are summed as the CUs sum them (accelsim.dataflows.sparten.jit describes the joins): output (m, k) is
the sum, chunk j = 0, 1, ... of its window in order, of each chunk join's partial sum, itself summed over the AND
of the two masks lowest bit first (the priority encoder's order), starting from zero; a join with no match adds
nothing. Which CU, cluster or pass ran a join changes neither the joins of an output nor their order (each filter
chunk meets each window chunk once, in chunk order), so the sums are those of the walk, bit for bit, without the
walk. Operands are read from the chunks' dense rows (the position a bit names) rather than located in the packed
nonzeros by prefix sums: the same values, multiplied in float64.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.extending import intrinsic

from accelsim.dataflows.sparten.jit import popcount

_ONE = np.uint64(1)


@intrinsic
def _llvm_cttz(typingctx, word):
    """LLVM's count of trailing zeros (defined as 64 for a zero word): one instruction where the CPU has one, an
    exact sequence where it has not."""
    def codegen(context, builder, signature, args):
        word_type = ir.IntType(64)
        function = builder.module.declare_intrinsic(
            "llvm.cttz", [word_type], ir.FunctionType(word_type, [word_type, ir.IntType(1)]))
        return builder.call(function, [args[0], ir.Constant(ir.IntType(1), 0)])
    return types.uint64(types.uint64), codegen


def lowest_bit_python(word):
    """Index of the lowest set bit of a nonzero uint64, in plain Python (intrinsics exist only in compiled code)."""
    word = int(word)
    return (word & -word).bit_length() - 1


if config.DISABLE_JIT:
    lowest_bit = lowest_bit_python
else:
    @njit(cache=True, inline="always")
    def lowest_bit(word):
        """Index of the lowest set bit of a nonzero uint64."""
        return np.int64(_llvm_cttz(word))


@njit(cache=True)
def pack_masks(dense, words):
    """(mask (n, words) uint64, nonzeros (n,) int64) of the rows of dense (n, positions): bit i % 64 of word i // 64
    is set when position i is nonzero. Positions beyond words * 64 must be zero (the caller trims to the longest
    chunk)."""
    n, positions = dense.shape
    used = min(positions, words * 64)
    mask = np.zeros((n, words), dtype=np.uint64)
    nnz = np.zeros(n, dtype=np.int64)
    for row in range(n):
        count = 0
        for word in range(words):
            bits = np.uint64(0)
            for i in range(word * 64, min(used, word * 64 + 64)):
                present = dense[row, i] != 0
                bits |= np.uint64(present) << np.uint64(i - word * 64)
                count += present
            mask[row, word] = bits
        nnz[row] = count
    return mask, nnz


@njit(cache=True, nogil=True)
def window_outputs(f_mask, f_dense, x_mask, x_dense, window, filters_per_group, first, stop, out):
    """out[k, m] (zeros on entry, (filters, M)) = the outputs of filters first .. stop - 1 through the chunk joins,
    in the CUs' order.

    f_mask (filters, J, words) and f_dense (filters, J, chunk_size): the filter chunks; x_mask (S, words) and
    x_dense (S, chunk_size): the stored input chunks; window (groups, M, J): stored chunk of each window chunk, -1 in
    the padding. Returns the matches (effectual products). Filter by filter, so that one filter's values stay in
    the cache while the windows pass by, over its chunks that hold a nonzero (an empty one matches nothing)."""
    positions, chunks = window.shape[1], window.shape[2]
    words = x_mask.shape[1]
    matches = 0
    nonempty = np.empty(chunks, dtype=np.int64)  # the filter's chunks with a nonzero, in order
    for k in range(first, stop):
        g = k // filters_per_group
        count = 0
        for j in range(chunks):
            for word in range(words):
                if f_mask[k, j, word]:
                    nonempty[count] = j
                    count += 1
                    break
        for m in range(positions):
            output = 0.0
            for index in range(count):
                j = nonempty[index]
                x = window[g, m, j]
                if x < 0:
                    continue
                total = 0.0
                found = 0
                for word in range(words):
                    both = f_mask[k, j, word] & x_mask[x, word]
                    while both:
                        i = word * 64 + lowest_bit(both)
                        total += np.float64(f_dense[k, j, i]) * np.float64(x_dense[x, i])
                        found += 1
                        both &= both - _ONE
                if found:  # a join without a match adds nothing
                    output += total
                    matches += found
            out[k, m] = output
    return matches


@njit(cache=True)
def effectual_products(f_mask, x_mask, window, filters_per_group):
    """The matches of every chunk join of the layer (each filter chunk with each window chunk outside the padding):
    its effectual products, whatever the design issues."""
    groups, positions, chunks = window.shape
    words = x_mask.shape[1]
    matches = 0
    for g in range(groups):
        k0 = g * filters_per_group
        for m in range(positions):
            for j in range(chunks):
                x = window[g, m, j]
                if x < 0:
                    continue
                for k in range(k0, k0 + filters_per_group):
                    for word in range(words):
                        matches += popcount(f_mask[k, j, word] & x_mask[x, word])
    return matches
