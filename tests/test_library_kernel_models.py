"""The library-kernel time model (accelsim.dataflows.library_kernels.kernel_models) on hand-computed cases: tile and
wave quantisation, the memory roofline, 2:4, CSR/BSR work split into row x column tasks, and its error messages.
The work split's monotonicity is tests/test_library_kernel_work_split.py."""

from __future__ import annotations

from dataclasses import fields
from types import SimpleNamespace

import numpy as np
import pytest

from accelsim.dataflows.library_kernels.features import GemmFeatures
from accelsim.dataflows.library_kernels.kernel_models import entry_column_ns, predict, tiled_time
from accelsim.dataflows.library_kernels.params import DeviceKernels, RowSparseParams, TiledGemmParams, TimeBreakdown

NS = 1e-9

# 1 GMAC/s per unit, 2x2 tiles, 1 us launch; 1000 GB/s makes memory negligible unless a test lowers it
TILED = TiledGemmParams(launch_us=1.0, macs_per_s_per_unit=1e9, tile_k=2, tile_m=2, bandwidth_gbytes_per_s=1000.0)
ROW = RowSparseParams(launch_us=2.0, ns_per_output=0.5, ns_per_entry=3.0, ns_per_entry_column=0.25)


def shape(k, m, w, groups=1, units=2):
    return SimpleNamespace(k=k, m=m, reduction=w, groups=groups, parallel_units=units)


def features(**overrides) -> GemmFeatures:
    # rows with 4, 3, 2, 1 nonzeros of 8: the densest holds 4; 2x4 blocks: 3 nonzero, 2 of them in one block row
    values = dict(m=5, reduction=8, k=4, groups=1, nnz=10, nnz_densest_row=4, parallel_units=2, block_rows=2,
                  block_cols=4, nonzero_blocks=3, blocks_densest_row=2, is_2_4=False)
    return GemmFeatures(**{**values, **overrides})


def test_tiled_hand_case_with_tile_and_wave_quantisation():
    # k=3, m=5: ceil(3/2) * ceil(5/2) = 6 tiles, 3 waves on 2 units; a tile is 2*2*8 = 32 MACs = 32 ns
    t = tiled_time(shape(k=3, m=5, w=8), TILED, 4, sparse_2_4=False)
    assert t.busy_s == pytest.approx(3 * 5 * 8 / 1e9 / 2)          # 60 ns: the MACs spread evenly
    assert t.fragmentation_s == pytest.approx(3 * 32 * NS - 60 * NS)  # 96 ns of waves - 60 ns
    assert t.memory_bandwidth_s == 0.0  # (3*8 + 8*5 + 3*5) * 4 B = 316 B at 1000 GB/s = 0.3 ns < 96 ns
    assert t.format_overhead_s == 0.0 and t.load_imbalance_s == 0.0
    assert t.launch_s == pytest.approx(1e-6)
    assert t.total_s == pytest.approx(96 * NS + 1e-6)


def test_partial_wave_costs_a_full_wave():
    # 3 tiles and 4 tiles both need 2 waves on 2 units; 1 and 2 tiles both need 1 wave
    three = tiled_time(shape(k=2, m=6, w=8), TILED, 4, sparse_2_4=False)
    four = tiled_time(shape(k=4, m=4, w=8), TILED, 4, sparse_2_4=False)
    one = tiled_time(shape(k=2, m=2, w=8), TILED, 4, sparse_2_4=False)
    two = tiled_time(shape(k=2, m=4, w=8), TILED, 4, sparse_2_4=False)
    assert three.total_s == pytest.approx(four.total_s) == pytest.approx(2 * 32 * NS + 1e-6)
    assert one.total_s == pytest.approx(two.total_s)
    assert three.fragmentation_s == pytest.approx(64 * NS - 2 * 6 * 8 / 1e9 / 2)
    # a partial tile (k=1 of a 2-row tile) costs the whole tile
    assert tiled_time(shape(k=1, m=2, w=8), TILED, 4, False).total_s == pytest.approx(one.total_s)


def test_memory_bound_takes_the_traffic_time():
    slow = TILED.model_copy(update={"bandwidth_gbytes_per_s": 1.0})
    t = tiled_time(shape(k=3, m=5, w=8), slow, 4, sparse_2_4=False)
    traffic_s = (3 * 8 + 8 * 5 + 3 * 5) * 4 / 1e9  # W, X read once and Y written once: 316 ns
    assert t.memory_bandwidth_s == pytest.approx(traffic_s - 96 * NS)
    assert t.total_s == pytest.approx(traffic_s + 1e-6)


def test_packing_is_split_over_units():
    packed = TILED.model_copy(update={"pack_ns_per_element": 1.0})
    t = tiled_time(shape(k=3, m=5, w=8, groups=2), packed, 4, sparse_2_4=False)
    assert t.format_overhead_s == pytest.approx((8 * 5 + 3 * 8) * 2 * NS / 2)


def test_2_4_halves_the_compute_and_the_weight_traffic():
    dense = tiled_time(shape(k=4, m=4, w=8), TILED, 2, sparse_2_4=False)
    sparse = tiled_time(shape(k=4, m=4, w=8), TILED, 2, sparse_2_4=True)
    assert sparse.busy_s == pytest.approx(dense.busy_s / 2)
    assert sparse.fragmentation_s == pytest.approx(dense.fragmentation_s / 2)
    assert sparse.total_s - 1e-6 == pytest.approx((dense.total_s - 1e-6) / 2)
    # memory-bound fp16: the kept half of W plus 2 bits per kept value (1/16 of W's dense bytes)
    slow = TILED.model_copy(update={"bandwidth_gbytes_per_s": 1e-3})
    w_bytes, x_bytes, y_bytes = 4 * 8 * 2, 8 * 4 * 2, 4 * 4 * 2
    t = tiled_time(shape(k=4, m=4, w=8), slow, 2, sparse_2_4=True)
    assert t.total_s - 1e-6 == pytest.approx((w_bytes * (0.5 + 1 / 16) + x_bytes + y_bytes) / 1e6)


def test_csr_hand_case():
    kernels = DeviceKernels(csr={"fp32": ROW})
    t = predict(features(), "csr", "fp32", kernels)
    # one task per row (all 5 columns); per cost the busiest unit does the larger of an even share and one task:
    # stream max(10 * 5 * 0.25 / 2, 4 * 5 * 0.25) = 6.25 ns, index max(10 * 3 / 2, 4 * 3) = 15 ns; outputs 4*5*0.5/2
    assert t.busy_s == pytest.approx(6.25 * NS)
    assert t.format_overhead_s == pytest.approx((5 + 15) * NS)
    assert t.load_imbalance_s == 0.0
    assert t.launch_s == pytest.approx(2e-6)
    assert t.total_s == pytest.approx(2e-6 + (5 + 6.25 + 15) * NS)


def test_csr_with_more_units_than_the_rows_can_feed():
    # 4 units: the even shares are 3.125 ns (stream) and 7.5 ns (index), but the densest row alone takes 5 and 12
    kernels = DeviceKernels(csr={"fp32": ROW})
    t = predict(features(parallel_units=4), "csr", "fp32", kernels)
    assert t.busy_s == pytest.approx(3.125 * NS)
    assert t.load_imbalance_s == pytest.approx((5 - 3.125 + 12 - 7.5) * NS)
    assert t.total_s == pytest.approx(2e-6 + (4 * 5 * 0.5 / 4 + 5 + 12) * NS)


def test_bsr_uses_blocks_block_rows_and_block_width():
    kernels = DeviceKernels(bsr={"fp32": ROW})
    t = predict(features(), "bsr", "fp32", kernels)
    # 3 blocks of 2x4 = 8 values, the densest block row 2 of them: stream max(3*5*8*0.25/2 = 15, 2*5*8*0.25 = 20),
    # index max(3*3/2 = 4.5, 2*3 = 6), outputs 5
    assert t.busy_s == pytest.approx(15 * NS)
    assert t.load_imbalance_s == pytest.approx((20 - 15 + 6 - 4.5) * NS)
    assert t.total_s == pytest.approx(2e-6 + (5 + 20 + 6) * NS)
    wider = predict(features(block_cols=8), "bsr", "fp32", kernels)  # 16 values a block: the stream doubles
    assert wider.total_s - t.total_s == pytest.approx(20 * NS)


GPU_ROW = RowSparseParams(launch_us=0, ns_per_output=0, ns_per_entry=1.0, ns_per_entry_column=0.5,
                          columns_per_task=32)


def _even(k: int, per_row: int, m: int, units: int = 132) -> GemmFeatures:
    """k rows of `per_row` nonzeros each (an evenly spread weight)."""
    return features(k=k, reduction=256, m=m, nnz=k * per_row, nnz_densest_row=per_row, parallel_units=units)


def test_rows_times_column_tiles_on_132_units_hand_case():
    kernels = DeviceKernels(csr={"fp32": GPU_ROW})
    # K = 128 rows of 8 nonzeros, M = 16 (one 16-column task per row) on 132 units: the even stream share
    # 128*8*16*0.5/132 = 62.06 ns is less than one task's 8*16*0.5 = 64 ns; index max(128*8/132, 8) = 8 ns
    assert predict(_even(128, 8, 16), "csr", "fp32", kernels).total_s == pytest.approx(72 * NS)
    # K = 132: the even share is exactly one task: the same 72 ns, not faster
    assert predict(_even(132, 8, 16), "csr", "fp32", kernels).total_s == pytest.approx(72 * NS)
    # K = 133: a third of a percent more work, a third of a percent more time (64 * 133/132 + 8 * 133/132)
    assert predict(_even(133, 8, 16), "csr", "fp32", kernels).total_s == pytest.approx(72 * 133 / 132 * NS)
    # M = 100: 4 tasks a row (32, 32, 32, 4 columns); 128 rows: stream 128*8*100*0.5/132, index 128*8*4/132
    wide = predict(_even(128, 8, 100), "csr", "fp32", kernels)
    assert wide.total_s == pytest.approx((128 * 8 * 100 * 0.5 + 128 * 8 * 4) / 132 * NS)
    assert wide.load_imbalance_s == 0.0


def test_halving_an_evenly_spread_weights_nonzeros_halves_the_stream():
    kernels = DeviceKernels(csr={"fp32": GPU_ROW})
    for k, m in ((128, 16), (128, 4096), (2048, 49)):
        full, half = (predict(_even(k, per_row, m), "csr", "fp32", kernels) for per_row in (16, 8))
        assert half.busy_s == pytest.approx(full.busy_s / 2)
        assert half.busy_s + half.load_imbalance_s == pytest.approx((full.busy_s + full.load_imbalance_s) / 2)
        assert half.total_s == pytest.approx(full.total_s / 2)  # no launch or output cost in these parameters


def test_dense_and_2_4_predictions_use_the_dtype_bytes():
    kernels = DeviceKernels(dense={"fp32": TILED, "fp16": TILED}, semi_structured={"fp16": TILED})
    f = features(k=3, m=5, reduction=8)
    assert predict(f, "dense", "fp32", kernels).total_s == pytest.approx(96 * NS + 1e-6)
    assert predict(f, "2:4", "fp16", kernels).total_s == pytest.approx(48 * NS + 1e-6)
    assert all(isinstance(getattr(predict(f, "dense", "fp16", kernels), x.name), float)
               for x in fields(TimeBreakdown))


def test_unknown_kernel_or_missing_dtype_names_what_exists():
    kernels = DeviceKernels(dense={"fp32": TILED, "bf16": TILED})
    with pytest.raises(ValueError, match=r"'ell'.*dense, csr, bsr, 2:4"):
        predict(features(), "ell", "fp32", kernels)
    with pytest.raises(ValueError, match=r"no dense parameters for fp16 \(it has: bf16, fp32\)"):
        predict(features(), "dense", "fp16", kernels)
    with pytest.raises(ValueError, match=r"no csr parameters for fp32 \(it has: none\)"):
        predict(features(), "csr", "fp32", kernels)


def test_parameters_refuse_bad_values():
    with pytest.raises(ValueError):
        TiledGemmParams(launch_us=1, macs_per_s_per_unit=0, tile_k=2, tile_m=2, bandwidth_gbytes_per_s=1)
    with pytest.raises(ValueError):
        RowSparseParams(launch_us=1, ns_per_output=0, ns_per_entry=0, ns_per_entry_column=0, extra=1)


def test_array_evaluation_equals_scalar_predictions():
    # the fit evaluates many layers at once through numpy arrays: same numbers as one predict per layer
    params = TILED.model_copy(update={"pack_ns_per_element": 0.3, "bandwidth_gbytes_per_s": 0.5})
    kernels = DeviceKernels(dense={"fp32": params})
    ks, ms, ws, gs, us = [3, 64, 1, 7], [5, 2, 300, 9], [8, 100, 3, 16], [1, 2, 1, 3], [2, 4, 1, 5]
    names = ("k", "m", "reduction", "groups", "parallel_units")
    arrays = SimpleNamespace(**{name: np.array(v, dtype=float)
                                for name, v in zip(names, (ks, ms, ws, gs, us), strict=True)})
    batch = tiled_time(arrays, params, 4, sparse_2_4=False)
    for i in range(4):
        f = features(k=ks[i], m=ms[i], reduction=ws[i], groups=gs[i], parallel_units=us[i])
        single = predict(f, "dense", "fp32", kernels)
        for field in fields(TimeBreakdown):
            part = np.broadcast_to(getattr(batch, field.name), (4,))[i]  # launch and imbalance stay scalars
            assert part == pytest.approx(getattr(single, field.name), rel=1e-12, abs=1e-18)
        assert batch.total_s[i] == pytest.approx(single.total_s, rel=1e-12)


def test_fresh_output_pages_are_charged_only_above_the_threshold():
    # one group's Y is k x m fp32 values: 4 x 8 x 4 B = 128 B; a threshold of 100 B makes it "fresh", 200 B not
    from accelsim.dataflows.library_kernels.features import GemmFeatures
    from accelsim.dataflows.library_kernels.kernel_models import predict
    from accelsim.dataflows.library_kernels.params import DeviceKernels, RowSparseParams

    f = GemmFeatures(m=8, reduction=4, k=4, groups=1, nnz=8, nnz_densest_row=2, parallel_units=2, block_rows=2,
                     block_cols=2, nonzero_blocks=2, blocks_densest_row=1, is_2_4=False)
    params = RowSparseParams(launch_us=0, ns_per_output=0, ns_per_entry=0, ns_per_entry_column=0,
                             ns_per_fresh_output=10.0)
    fresh = predict(f, "csr", "fp32", DeviceKernels(csr={"fp32": params}, fresh_output_bytes=100))
    kept = predict(f, "csr", "fp32", DeviceKernels(csr={"fp32": params}, fresh_output_bytes=200))
    assert fresh.total_s == pytest.approx(32 * 10e-9 / 2)  # 32 outputs x 10 ns over 2 units
    assert kept.total_s == 0.0


def test_entry_column_curve_is_log_linear_in_the_size_of_x_and_flat_beyond_its_ends():
    curve = {4.0: 0.3, 1.0: 0.1}  # MiB: ns, in any order
    mib = 2**20
    assert entry_column_ns(curve, 0.5 * mib) == pytest.approx(0.1)
    assert entry_column_ns(curve, 1 * mib) == pytest.approx(0.1)
    assert entry_column_ns(curve, 2 * mib) == pytest.approx(0.2)  # halfway between 1 and 4 MiB on a log scale
    assert entry_column_ns(curve, 64 * mib) == pytest.approx(0.3)
    assert list(entry_column_ns(curve, np.array([1, 2, 4]) * mib)) == pytest.approx([0.1, 0.2, 0.3])
    assert entry_column_ns(0.25, 123.0) == pytest.approx(0.25)


def test_csr_stream_cost_follows_where_x_lives():
    # X is w x m fp32: 512 x 1024 x 4 B = 2 MiB, halfway (log scale) between the curve's 1 and 4 MiB points
    params = RowSparseParams(launch_us=0, ns_per_output=0, ns_per_entry=0, ns_per_entry_column={1.0: 0.1, 4.0: 0.3})
    f = features(reduction=512, m=1024)  # 10 nonzeros over 2 units: 5 each (the densest row, 4, is less)
    t = predict(f, "csr", "fp32", DeviceKernels(csr={"fp32": params}))
    assert t.total_s == pytest.approx(5 * 1024 * 0.2 * NS)
    assert t.busy_s == pytest.approx(10 / 2 * 1024 * 0.2 * NS)
    # the same layer in fp16 has a 1 MiB X: the cheaper point
    t16 = predict(f, "csr", "fp16", DeviceKernels(csr={"fp16": params}))
    assert t16.total_s == pytest.approx(5 * 1024 * 0.1 * NS)


def test_the_curve_reads_one_groups_x():
    # a grouped layer streams each group's own X: 2 groups of 512 x 1024 fp32 are 2 MiB each, not 4 MiB together
    params = RowSparseParams(launch_us=0, ns_per_output=0, ns_per_entry=0, ns_per_entry_column={1.0: 0.1, 4.0: 0.3})
    f = features(reduction=512, m=1024, groups=2, nnz=20, nnz_densest_row=8)
    t = predict(f, "csr", "fp32", DeviceKernels(csr={"fp32": params}))
    assert t.total_s == pytest.approx(20 / 2 * 1024 * 0.2 * NS)


@pytest.mark.parametrize("curve", [{}, {0.0: 0.1}, {1.0: -0.1}, -1.0, float("nan"), float("inf"),
                                   {float("nan"): 0.1}, {1.0: float("inf")}, {float("inf"): 0.1}])
def test_entry_column_curve_refuses_bad_points(curve):
    with pytest.raises(ValueError, match="ns_per_entry_column"):
        RowSparseParams(launch_us=0, ns_per_output=0, ns_per_entry=0, ns_per_entry_column=curve)
