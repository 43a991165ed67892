"""Fitting kernel parameters (accelsim.kernel_bench.fit) and scoring agreement (accelsim.kernel_bench.agreement) on
synthetic kernel-bench rows whose times come from the model itself with known parameters: a correct fit recovers
them."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.dataflows.library_kernels.features import features_of_matrices
from accelsim.dataflows.library_kernels.kernel_models import predict
from accelsim.dataflows.library_kernels.params import DeviceKernels, RowSparseParams, TiledGemmParams
from accelsim.kernel_bench.agreement import agreement
from accelsim.kernel_bench.bench import COLUMNS
from accelsim.kernel_bench.fit import features_from_row, fit_row_sparse, fit_tiled
from accelsim.kernel_bench.splits import is_held_out, model_splits, shape_key

CSR = RowSparseParams(launch_us=7.0, ns_per_output=0.3, ns_per_entry=1.5, ns_per_entry_column=0.2)
BSR = RowSparseParams(launch_us=12.0, ns_per_output=0.1, ns_per_entry=4.0, ns_per_entry_column=0.05)
DENSE = TiledGemmParams(launch_us=3.0, macs_per_s_per_unit=2e10, tile_k=32, tile_m=64, bandwidth_gbytes_per_s=2.0,
                        pack_ns_per_element=0.1)
KERNELS = DeviceKernels(dense={"fp32": DENSE}, csr={"fp32": CSR}, bsr={"fp32": BSR})


def synthetic_rows(kernel: str, count: int, seed: int = 0, block: str = "", scheme: str = "s", keep: float = 1.0,
                   dtype: str = "fp32", kernels: DeviceKernels = KERNELS) -> list[dict]:
    """Rows as kernel-bench writes them to CSV (every value a string), from random sparse weights of varied shapes,
    with `median_s` the model's own prediction under `kernels`. The shapes depend on `seed` only; `keep` prunes
    further (the same layers under a sparser scheme)."""
    rng = np.random.default_rng(seed)
    block_shape = tuple(int(b) for b in block.split("x")) if block else (16, 16)
    rows = []
    for index in range(count):
        k = int(rng.choice([4, 8, 16, 32, 64, 128]))
        w = int(rng.choice([8, 16, 48, 96, 256]))
        m = int(rng.choice([1, 3, 16, 50, 200, 1000]))
        units = int(rng.choice([1, 2, 4]))
        weight = rng.standard_normal((k, w)) * (rng.random((k, w)) < rng.uniform(0.05, 0.9))
        weight[: k // 4] *= rng.random((k // 4, w)) < 0.5  # some row imbalance
        weight *= np.random.default_rng(seed + index + 1000).random((k, w)) < keep
        f = features_of_matrices([weight], [weight], m=m, parallel_units=units, block=block_shape)
        row = {column: "" for column in COLUMNS}
        row.update({name: str(value) for name, value in f.as_dict().items() if name in COLUMNS})
        row.update(model="synthetic", scheme=scheme, batch="1", layer=f"layer{index}", op="linear", kernel=kernel,
                   dtype=dtype, block=block, density=str(f.density))
        row["median_s"] = repr(predict(f, kernel, dtype, kernels).total_s)
        rows.append(row)
    return rows


def test_features_from_row_reads_csv_strings():
    row = synthetic_rows("bsr", 1, block="4x8")[0]
    f = features_from_row(row)
    assert (f.block_rows, f.block_cols) == (4, 8)
    assert f.m == int(row["m"]) and f.nnz == int(row["nnz"]) and f.is_2_4 is False
    assert features_from_row({**row, "block": "", "is_2_4": "True"}).block_rows == 16
    assert features_from_row({**row, "is_2_4": "True"}).is_2_4 is True


@pytest.mark.parametrize("kernel, params, block", [("csr", CSR, ""), ("bsr", BSR, "4x8")])
def test_row_sparse_fit_recovers_the_coefficients(kernel, params, block):
    rows = synthetic_rows(kernel, 24, seed=1, block=block)
    fitted = fit_row_sparse(rows, kernel, input_mib_knots=(0.001, 0.1)).params
    for name in ("launch_us", "ns_per_output", "ns_per_entry"):
        assert getattr(fitted, name) == pytest.approx(getattr(params, name), rel=1e-6), name
    # a constant entry x column cost comes back as a flat curve
    assert fitted.ns_per_entry_column == pytest.approx({0.001: params.ns_per_entry_column,
                                                        0.1: params.ns_per_entry_column}, rel=1e-6)


def test_row_sparse_fit_recovers_a_curve_over_the_size_of_x():
    # X of the synthetic layers spans 32 B to 1 MB (w x m x 4 B): points at 1 kB, 10 kB and 100 kB are all informed
    curve = {0.001: 0.1, 0.01: 0.2, 0.1: 0.4}
    kernels = DeviceKernels(csr={"fp32": CSR.model_copy(update={"ns_per_entry_column": curve})})
    rows = synthetic_rows("csr", 40, seed=4, kernels=kernels)
    sizes_mib = [int(row["reduction"]) * int(row["m"]) * 4 / 2**20 for row in rows]
    assert min(sizes_mib) < 0.001 and max(sizes_mib) > 0.1
    fitted = fit_row_sparse(rows, "csr", input_mib_knots=(0.001, 0.01, 0.1, 1e6)).params
    # beyond 0.1 MiB the true curve is flat, so the far point is 0.4 too; a point beyond every X is left out
    assert fitted.ns_per_entry_column == pytest.approx({**curve, 1e6: 0.4}, rel=1e-6)
    beyond = fit_row_sparse(rows, "csr", input_mib_knots=(0.001, 0.01, 0.1, 1e6, 1e7)).params
    assert beyond.ns_per_entry_column == pytest.approx({**curve, 1e6: 0.4}, rel=1e-6)
    assert fitted.launch_us == pytest.approx(CSR.launch_us, rel=1e-6)


def test_row_sparse_fit_needs_five_rows():
    with pytest.raises(ValueError, match="at least 5 measured rows, got 4"):
        fit_row_sparse(synthetic_rows("csr", 4), "csr")


def test_tiled_fit_reproduces_the_dense_times():
    rows = synthetic_rows("dense", 30, seed=2)
    bound = [predict(features_from_row(row), "dense", "fp32", KERNELS).memory_bandwidth_s > 0 for row in rows]
    assert 0 < sum(bound) < len(rows)  # both sides of the roofline are in the data
    fitted = fit_tiled(rows, "fp32", tiles=(16, 32, 64)).params
    fitted_kernels = DeviceKernels(dense={"fp32": fitted})
    for row in rows:
        predicted = predict(features_from_row(row), "dense", "fp32", fitted_kernels).total_s
        assert predicted == pytest.approx(float(row["median_s"]), rel=0.02), row["layer"]
    with pytest.raises(ValueError, match="at least 4"):
        fit_tiled(rows[:2], "fp32")


def _study_rows() -> list[dict]:
    """One model, 12 layers: dense fp32 once per layer (scheme none), CSR under three sparsities."""
    rows = synthetic_rows("dense", 12, seed=3, scheme="none")
    for scheme, keep in (("a", 1.0), ("b", 0.5), ("c", 0.1)):
        rows += synthetic_rows("csr", 12, seed=3, scheme=scheme, keep=keep)
    return rows


def test_agreement_is_perfect_when_predictions_equal_measurements():
    result = agreement(_study_rows(), KERNELS)
    assert set(result["per_kernel"]) == {"dense.fp32", "csr.fp32"}
    for entry in result["per_kernel"].values():
        assert sum(split["rows"] for split in entry.values()) in (12, 36)
        for split in entry.values():
            assert split["mape"] == pytest.approx(0.0, abs=1e-12)
            assert split["worst_ape"] == pytest.approx(0.0, abs=1e-12) and split["within_25_percent"] == 1.0
    sign = result["speedup_sign"]["all"]
    assert sign["pairs"] == 36 and sign["scored"] > 0 and sign["agreement"] == 1.0
    (correlation,) = result["scheme_rank_correlation"]["all"].values()
    assert correlation["schemes"] == 3 and correlation["spearman"] == pytest.approx(1.0)


def test_agreement_sees_a_wrong_model():
    # measured twice as slow as predicted: every absolute percentage error is 50%
    rows = [{**row, "median_s": repr(2 * float(row["median_s"]))} for row in synthetic_rows("csr", 8)]
    (entry,) = agreement(rows, KERNELS)["per_kernel"].values()
    for split in entry.values():
        assert split["mape"] == pytest.approx(0.5) and split["within_25_percent"] == 0.0


def _crc32(data: bytes) -> int:
    """CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) bit by bit: the reference for the split's hash."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


# The shape split, frozen before any model was tuned on it (accelsim.kernel_bench.splits): every GEMM shape of the
# committed grid (per-sample M x reduction x K x groups) and whether it is held out.
FROZEN_SHAPES = {
    "128x3072x768x1": True, "128x768x3072x1": False, "128x768x768x1": False, "1x768x768x1": True,  # bert-base
    "12544x147x64x1": True, "196x1024x256x1": False, "196x1024x512x1": False, "196x2304x256x1": False,
    "196x256x1024x1": False, "196x512x1024x1": False, "1x2048x1000x1": False, "3136x256x128x1": False,
    "3136x256x64x1": False, "3136x576x64x1": True, "3136x64x256x1": False, "3136x64x64x1": False,
    "49x1024x2048x1": True, "49x2048x512x1": False, "49x4608x512x1": True, "49x512x2048x1": False,
    "784x1152x128x1": False, "784x128x512x1": False, "784x256x512x1": True, "784x512x128x1": False,
    "784x512x256x1": False,
}


def test_crc32_reference_is_the_standard_one():
    assert _crc32(b"123456789") == 0xCBF43926  # the CRC-32 check value of the standard


def test_shape_split_holds_out_by_the_hash_of_the_per_sample_gemm():
    for key, held in FROZEN_SHAPES.items():
        assert (_crc32(key.encode()) % 3 == 0) == held, key
        m, reduction, k, groups = key.split("x")
        for batch in (1, 32):  # the same layer at any batch, under any scheme and kernel, on the same side
            row = {"model": "any", "layer": "any", "m": str(int(m) * batch), "batch": str(batch),
                   "reduction": reduction, "k": k, "groups": groups}
            assert shape_key(row) == key
            assert is_held_out(row) == is_held_out({**row, "scheme": "nm:2:4", "kernel": "bsr"}) == held, key
    # resnet50 layer4.x.conv2 (49 pixels x 4608 x 512) is held out whole, BERT's 768 x 768 projections are not
    assert FROZEN_SHAPES["49x4608x512x1"] and not FROZEN_SHAPES["128x768x768x1"]


def test_shape_key_refuses_an_m_that_is_not_per_sample():
    with pytest.raises(ValueError, match="not a multiple of batch 32"):
        shape_key({"model": "x", "layer": "y", "m": "49", "batch": "32", "reduction": "8", "k": "4", "groups": "1"})


def test_model_splits_train_on_one_model_and_test_on_the_others():
    rows = [{"model": name} for name in ("resnet50", "bert-base", "resnet50")]
    splits = model_splits(rows)
    assert [s.name for s in splits] == ["train bert-base, test resnet50", "train resnet50, test bert-base"]
    assert [[s.held_out(row) for row in rows] for s in splits] == [[True, False, True], [False, True, False]]
    assert model_splits(rows[:1]) == []


def test_tiled_fit_of_2_4_kernels_reproduces_their_times():
    # the 2:4 GEMM runs half the reduction: fitted as dense, its rates would be off by 2x
    kernels = DeviceKernels(semi_structured={"fp16": DENSE})
    rows = synthetic_rows("2:4", 30, seed=5, dtype="fp16", kernels=kernels)
    fit = fit_tiled(rows, "fp16", tiles=(16, 32, 64), sparse_2_4=True)
    fitted = DeviceKernels(semi_structured={"fp16": fit.params})
    for row in rows:
        predicted = predict(features_from_row(row), "2:4", "fp16", fitted).total_s
        assert predicted == pytest.approx(float(row["median_s"]), rel=0.02), row["layer"]
    with pytest.raises(ValueError, match="fitting 2:4 fp16 needs at least 4"):
        fit_tiled(rows[:3], "fp16", sparse_2_4=True)


def test_tiled_fit_without_page_faults_writes_no_page_fault_cost():
    # a GPU (no fresh-output threshold) has no page-fault term: the fit must write 0, not an untouched start value
    rows = synthetic_rows("dense", 12, seed=6)
    assert fit_tiled(rows, "fp32", tiles=(32,)).params.ns_per_fresh_output == 0.0


@pytest.mark.parametrize("knots", [(), (1.0, 1.0), (4.0, 1.0), (0.0, 1.0)])
def test_row_sparse_fit_refuses_bad_curve_points(knots):
    with pytest.raises(ValueError, match="input_mib_knots must be increasing sizes > 0 MiB"):
        fit_row_sparse(synthetic_rows("csr", 6), "csr", input_mib_knots=knots)
