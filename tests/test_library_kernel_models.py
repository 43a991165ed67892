"""The library-kernel time model (accelsim.dataflows.library_kernels.kernel_models) on hand-computed cases: tile and
wave quantisation, the memory roofline, 2:4, CSR/BSR row-split costs and its error messages."""

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
    # rows with 4, 3, 2, 1 nonzeros of 8 split over 2 units: chunks 4+3 = 7 and 2+1 = 3
    values = dict(m=5, reduction=8, k=4, groups=1, nnz=10, nnz_busiest_unit=7, parallel_units=2, block_rows=2,
                  block_cols=4, nonzero_blocks=3, is_2_4=False)
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
    # launch + outputs / units * ns + busiest unit * (per entry + per column * m)
    expected = 2e-6 + 4 * 5 / 2 * 0.5 * NS + 7 * (3.0 + 0.25 * 5) * NS
    assert t.total_s == pytest.approx(expected)
    assert t.load_imbalance_s == pytest.approx((7 - 10 / 2) * (3.0 + 0.25 * 5) * NS)
    assert t.busy_s == pytest.approx(10 / 2 * 0.25 * 5 * NS)
    assert t.launch_s == pytest.approx(2e-6)


def test_bsr_uses_blocks_and_block_width():
    kernels = DeviceKernels(bsr={"fp32": ROW})
    t = predict(features(), "bsr", "fp32", kernels)
    # busiest blocks = blocks / units * row imbalance (7 / (10 / 2)); each block-column is 2*4 = 8 MACs wide
    busiest = 3 / 2 * (7 / 5)
    expected = 2e-6 + 4 * 5 / 2 * 0.5 * NS + busiest * (3.0 + 0.25 * 8 * 5) * NS
    assert t.total_s == pytest.approx(expected)
    wider = predict(features(block_cols=8), "bsr", "fp32", kernels)
    assert wider.total_s - t.total_s == pytest.approx(busiest * 0.25 * 8 * 5 * NS)


def test_balanced_rows_have_no_imbalance():
    kernels = DeviceKernels(csr={"fp32": ROW})
    t = predict(features(nnz=10, nnz_busiest_unit=5), "csr", "fp32", kernels)
    assert t.load_imbalance_s == 0.0
    assert t.total_s == pytest.approx(2e-6 + 5 * NS + 5 * (3.0 + 1.25) * NS)


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

    f = GemmFeatures(m=8, reduction=4, k=4, groups=1, nnz=8, nnz_busiest_unit=4, parallel_units=2, block_rows=2,
                     block_cols=2, nonzero_blocks=2, is_2_4=False)
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
    f = features(reduction=512, m=1024)  # 10 nonzeros, the busiest unit 7
    t = predict(f, "csr", "fp32", DeviceKernels(csr={"fp32": params}))
    assert t.total_s == pytest.approx(7 * 1024 * 0.2 * NS)
    assert t.busy_s == pytest.approx(10 / 2 * 1024 * 0.2 * NS)
    # the same layer in fp16 has a 1 MiB X: the cheaper point
    t16 = predict(f, "csr", "fp16", DeviceKernels(csr={"fp16": params}))
    assert t16.total_s == pytest.approx(7 * 1024 * 0.1 * NS)


def test_the_curve_reads_one_groups_x():
    # a grouped layer streams each group's own X: 2 groups of 512 x 1024 fp32 are 2 MiB each, not 4 MiB together
    params = RowSparseParams(launch_us=0, ns_per_output=0, ns_per_entry=0, ns_per_entry_column={1.0: 0.1, 4.0: 0.3})
    f = features(reduction=512, m=1024, groups=2, nnz=20, nnz_busiest_unit=14)
    t = predict(f, "csr", "fp32", DeviceKernels(csr={"fp32": params}))
    assert t.total_s == pytest.approx(14 * 1024 * 0.2 * NS)


@pytest.mark.parametrize("curve", [{}, {0.0: 0.1}, {1.0: -0.1}, -1.0, float("nan"), float("inf"),
                                   {float("nan"): 0.1}, {1.0: float("inf")}, {float("inf"): 0.1}])
def test_entry_column_curve_refuses_bad_points(curve):
    with pytest.raises(ValueError, match="ns_per_entry_column"):
        RowSparseParams(launch_us=0, ns_per_output=0, ns_per_entry=0, ns_per_entry_column=curve)
