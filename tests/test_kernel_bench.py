"""Kernel timing on the CPU (accelsim.kernel_bench: timer, kernels, bench) and the `accelsim kernel-bench` command, on
layers of a few KB with a tiny timing policy so the file runs in seconds."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.dataflows.library_kernels.features import gemm_features
from accelsim.kernel_bench import bench
from accelsim.kernel_bench import torch_kernels as kernels
from accelsim.kernel_bench.bench import COLUMNS, KernelCheckError, bench_workload
from accelsim.kernel_bench.device_info import resolve_device
from accelsim.kernel_bench.timer import TimingPolicy, input_copies, time_call
from accelsim.kernel_bench.torch_kernels import KernelSpec, why_unavailable
from accelsim.workload import Layer, Workload

CPU = torch.device("cpu")
TINY = TimingPolicy(warmup_calls=1, min_repeats=3, max_repeats=5, min_total_s=0.0)
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")


def tiny_workload() -> Workload:
    rng = np.random.default_rng(3)
    conv_w = rng.standard_normal((8, 4, 3, 3))
    conv_w[rng.random(conv_w.shape) < 0.5] = 0.0
    fc_w = rng.standard_normal((6, 8))
    fc_w[rng.random(fc_w.shape) < 0.5] = 0.0
    layers = (
        Layer("conv", "conv2d", rng.standard_normal((1, 4, 6, 6)), conv_w, padding=1),
        Layer("fc", "linear", rng.standard_normal((3, 8)), fc_w),
        Layer("qk", "matmul", rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 3)), weight_is_static=False),
    )
    return Workload(layers=layers, provenance={"model": "tiny", "scheme": "random:0.5", "input_shape": [1, 4, 6, 6]})


def test_time_call_respects_the_policy():
    a, b = torch.ones(8, 8), torch.ones(8, 4)
    calls = []

    def call(inputs):
        calls.append(inputs[0].data_ptr())
        return a @ inputs[0]

    timing = time_call(call, [b], CPU, TINY)
    assert TINY.min_repeats <= timing.repeats <= TINY.max_repeats
    assert len(calls) == TINY.warmup_calls + timing.repeats
    assert 0 < timing.min_s <= timing.q1_s <= timing.median_s <= timing.q3_s
    assert set(timing.as_dict()) == {"median_s", "min_s", "q1_s", "q3_s", "repeats", "input_copies"}
    # 128 bytes of input, rotate_bytes 128 MiB: capped at max_copies, and the calls did see different copies
    assert timing.copies == TINY.max_copies and len(set(calls)) > 1


def test_warmup_stops_after_one_call_once_warmup_s_is_spent():
    calls = []
    policy = TimingPolicy(warmup_calls=5, warmup_s=0.0, min_repeats=3, max_repeats=3, min_total_s=0.0)
    timing = time_call(lambda inputs: calls.append(1), [torch.ones(1)], CPU, policy)
    assert len(calls) == 1 + timing.repeats == 4


def test_time_call_stops_at_max_total_after_three_repeats():
    slow = TimingPolicy(warmup_calls=0, min_repeats=50, max_repeats=100, min_total_s=0.0, max_total_s=0.0)
    assert time_call(lambda inputs: None, [torch.ones(1)], CPU, slow).repeats == 3


@pytest.mark.parametrize("rotate_bytes, copies", [(0, 1), (400, 1), (401, 2), (1000, 3), (10**9, 16)])
def test_input_copies_exceed_rotate_bytes(rotate_bytes, copies):
    inputs = [torch.zeros(50), torch.zeros(50)]  # 400 bytes of float32
    got = input_copies(inputs, TimingPolicy(rotate_bytes=rotate_bytes, max_copies=16))
    assert len(got) == copies
    assert got[0] is inputs  # the originals first, then clones at other addresses
    pointers = {t.data_ptr() for copy in got for t in copy}
    assert len(pointers) == 2 * copies


def test_bench_times_dense_and_csr_and_checks_them():
    workload = tiny_workload()
    seen = []
    result = bench_workload(workload, CPU, policy=TINY, on_row=seen.append)
    assert [(r["layer"], r["kernel"]) for r in result.rows] == [("conv", "dense"), ("conv", "csr"),
                                                                 ("fc", "dense"), ("fc", "csr")]
    assert seen == result.rows
    units = torch.get_num_threads()
    for row in result.rows:
        assert tuple(row) == COLUMNS
        assert row["model"] == "tiny" and row["scheme"] == "random:0.5" and row["batch"] == 1
        assert row["dtype"] == "fp32" and row["block"] == ""
        assert 0 <= row["relative_error"] <= row["tolerance"] == kernels.TOLERANCE["fp32"]
        assert TINY.min_repeats <= row["repeats"] <= TINY.max_repeats and row["median_s"] > 0
        f = gemm_features(workload[row["layer"]], parallel_units=units)
        names = ("m", "reduction", "k", "groups", "nnz", "nnz_densest_row", "parallel_units", "nonzero_blocks",
                 "blocks_densest_row", "is_2_4")
        assert {name: row[name] for name in names} == {
            name: getattr(f, name) for name in ("m", "reduction", "k", "groups", "nnz", "nnz_densest_row",
                                                "parallel_units", "nonzero_blocks", "blocks_densest_row", "is_2_4")}
        assert row["density"] == pytest.approx(f.density)
    # the attention product has no static weight: listed, not dropped
    assert result.skipped == [{"layer": "qk", "kernel": "all", "reason": result.skipped[0]["reason"]}]
    assert "two activations" in result.skipped[0]["reason"]


def test_bsr_with_a_block_that_does_not_tile_is_skipped_with_a_reason():
    result = bench_workload(tiny_workload(), CPU, specs=[KernelSpec("bsr", "fp32", (5, 5))], policy=TINY)
    assert result.rows == []
    reasons = {item["layer"]: item["reason"] for item in result.skipped}
    assert reasons["conv"] == "5x5 blocks do not tile a 8 x 36 weight"
    assert reasons["fc"] == "5x5 blocks do not tile a 6 x 8 weight"


def test_bsr_with_a_square_block_runs_on_the_cpu():
    result = bench_workload(tiny_workload(), CPU, specs=[KernelSpec("bsr", "fp32")], block=(2, 2), policy=TINY)
    assert [(r["layer"], r["block"]) for r in result.rows] == [("conv", "2x2"), ("fc", "2x2")]
    conv = gemm_features(tiny_workload()["conv"], parallel_units=1, block=(2, 2))
    assert result.rows[0]["nonzero_blocks"] == conv.nonzero_blocks > 0


def test_row_block_counts_follow_the_specs_block():
    result = bench_workload(tiny_workload(), CPU, specs=[KernelSpec("bsr", "fp32", (2, 2))], policy=TINY)
    conv = gemm_features(tiny_workload()["conv"], parallel_units=1, block=(2, 2))
    assert result.rows[0]["block"] == "2x2"
    assert result.rows[0]["nonzero_blocks"] == conv.nonzero_blocks


def test_non_square_bsr_on_the_cpu_is_skipped_not_fatal():
    result = bench_workload(tiny_workload(), CPU, specs=[KernelSpec("bsr", "fp32")], block=(2, 4), policy=TINY)
    assert any(item["kernel"] == "bsr2x4.fp32" for item in result.skipped)


def test_why_unavailable_on_the_cpu():
    f = gemm_features(tiny_workload()["fc"], parallel_units=2)
    assert "CUDA GPUs only" in why_unavailable(KernelSpec("2:4", "fp32"), CPU, f)
    assert "GPU only" in why_unavailable(KernelSpec("2:4", "fp16"), CPU, f)
    assert "GPU only" in why_unavailable(KernelSpec("dense", "bf16"), CPU, f)
    assert why_unavailable(KernelSpec("csr", "fp32"), CPU, f) is None
    assert "square blocks" in why_unavailable(KernelSpec("bsr", "fp32", (2, 4)), CPU, f)
    with pytest.raises(ValueError, match="allowed dense, csr, bsr, 2:4"):
        KernelSpec("ell")


def test_a_wrong_kernel_result_is_caught(monkeypatch):
    # a kernel 1% off is far outside fp32's 1e-4 tolerance: the bench must refuse to time it
    real = kernels.make_call

    def broken(prepared):
        call = real(prepared)
        return lambda inputs: [y * 1.01 for y in call(inputs)]

    monkeypatch.setattr(kernels, "make_call", broken)
    with pytest.raises(KernelCheckError, match=r"'conv', kernel dense\.fp32: relative error 0\.01"):
        bench_workload(tiny_workload(), CPU, policy=TINY)


def test_a_kernel_the_library_refuses_is_listed_and_the_rest_still_timed(monkeypatch):
    # e.g. cuSPARSE without fp16 BSR, or a shape cuSPARSELt rejects, must not end a long GPU run
    real = kernels.prepare

    def refusing(spec, weights, device):
        if spec.kernel == "csr":
            raise NotImplementedError("no CSR kernel for this shape")
        return real(spec, weights, device)

    monkeypatch.setattr(kernels, "prepare", refusing)
    result = bench_workload(tiny_workload(), CPU, policy=TINY)
    refused = [item for item in result.skipped if item["kernel"] == "csr.fp32"]
    assert {item["layer"] for item in refused} == {row["layer"] for row in result.rows}
    assert all(item["reason"] == "the library refused it: NotImplementedError: no CSR kernel for this shape"
               for item in refused)
    assert {row["kernel"] for row in result.rows} == {"dense"}


def test_our_own_shape_bug_is_never_taken_for_a_refusal(monkeypatch):
    real = kernels.make_call

    def off_by_one(prepared):  # a lowering bug: inputs one row short
        call = real(prepared)
        return lambda inputs: call([x[:-1] for x in inputs])

    monkeypatch.setattr(kernels, "make_call", off_by_one)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):  # dense raises, it is never "refused"
        bench_workload(tiny_workload(), CPU, policy=TINY)


def test_mismatched_operands_raise_before_any_kernel(monkeypatch):
    from accelsim.kernel_bench import bench as bench_module
    from accelsim.kernel_bench.operands import GemmOperands

    real = bench_module.gemm_operands

    def short_inputs(layer, layout="crs"):
        gemm = real(layer, layout)
        return GemmOperands(gemm.weights, tuple(x[:-1] for x in gemm.inputs))

    monkeypatch.setattr(bench_module, "gemm_operands", short_inputs)
    with pytest.raises(ValueError, match="'conv': weight and input matrices do not multiply"):
        bench_workload(tiny_workload(), CPU, specs=[KernelSpec("csr", "fp32")], policy=TINY)


def test_a_cuda_fault_is_raised_not_listed(monkeypatch):
    def faulting(spec, weights, device):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(kernels, "prepare", faulting)
    with pytest.raises(RuntimeError, match="illegal memory access"):
        bench_workload(tiny_workload(), CPU, specs=[KernelSpec("csr", "fp32")], policy=TINY)


@NO_GPU
def test_resolve_device_refuses_cuda_without_a_gpu():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="allowed cpu, cuda"):
        resolve_device("tpu")
    assert resolve_device("cpu") == CPU


# --- accelsim kernel-bench ------------------------------------------------------------------------------------

@pytest.fixture
def digits_cache(digits_cache, monkeypatch):
    """The shared digits-cnn cache (tests/conftest.py), and the CLI times with the tiny policy."""
    monkeypatch.setattr(bench, "TimingPolicy", lambda: TINY)


def kernel_bench(*args: str):
    return CliRunner().invoke(app, ["kernel-bench", "--model", "digits-cnn", *args])


@pytest.mark.usefixtures("digits_cache")
def test_kernel_bench_writes_csv_and_provenance(tmp_path):
    out = tmp_path / "t.csv"
    result = kernel_bench("--prune", "unstructured:0.5", "--device", "cpu", "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [(r["layer"], r["kernel"]) for r in rows] == [(layer, kernel) for layer in ("conv1", "conv2", "fc1", "fc2")
                                                         for kernel in ("dense", "csr")]
    assert all(r["model"] == "digits-cnn" and r["scheme"] == "unstructured:0.5" for r in rows)
    assert all(float(r["relative_error"]) <= float(r["tolerance"]) for r in rows)
    info = json.loads((tmp_path / "t.provenance.json").read_text())
    assert {"device", "torch_version", "date_utc", "command"} <= set(info)
    assert info["torch_version"] == torch.__version__ and info["skipped"] == []


@NO_GPU
@pytest.mark.usefixtures("digits_cache")
def test_kernel_bench_on_cuda_without_a_gpu_fails_cleanly(tmp_path):
    result = kernel_bench("--device", "cuda", "-o", str(tmp_path / "t.csv"))
    assert result.exit_code == 2
    assert "CUDA" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("kernels_option, message", [("foo", "give kernel.dtype"), ("foo.fp32", "'foo'"),
                                                     ("csr.fp64", "'fp64'")])
@pytest.mark.usefixtures("digits_cache")
def test_kernel_bench_refuses_bad_kernels(tmp_path, kernels_option, message):
    result = kernel_bench("--kernels", kernels_option, "-o", str(tmp_path / "t.csv"))
    assert result.exit_code == 2
    assert "error:" in result.output and message in result.output
