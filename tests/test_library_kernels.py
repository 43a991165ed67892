"""The library_kernels dataflow on the H100/H200 archs: each kernel's output computed through its own format equals the
dense reference, 2:4 falls back to dense when the weight is not 2:4, stalls fit in the cycles, sparser weights are never
slower under CSR, and the `accelsim run` command works end to end."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from accelsim.arch_configs import load_arch
from accelsim.cli import app
from accelsim.dataflows.library_kernels.dataflow import UNMEASURED_NOTE, LibraryKernels, predicted_time
from accelsim.dataflows.library_kernels.features import gemm_features
from accelsim.dataflows.library_kernels.kernel_models import predict
from accelsim.pruning import apply, parse_scheme
from accelsim.reference import reference_output
from accelsim.simulate import dense_reference_arch
from accelsim.workload import Layer

KERNELS = ("dense", "csr", "bsr", "2:4")


@functools.cache
def gpu_arch(kernel: str, name: str = "h100-sxm", block: str = "2x4"):
    rows, cols = block.split("x")
    dtype = "fp16" if kernel == "2:4" else "fp32"  # the archs have 2:4 parameters in fp16 and bf16 only
    return load_arch(name, [f"dataflow.kernel={kernel}", f"dataflow.dtype={dtype}", f"dataflow.block_rows={rows}",
                            f"dataflow.block_cols={cols}"])


def _nm_pruned(module: nn.Module) -> np.ndarray:
    apply(module, parse_scheme("nm:2:4"))  # accelsim's own N:M pruner, as `accelsim run --prune nm:2:4` uses
    return module.weight.detach().numpy().copy()


def _block_and_random_pruned(weight: np.ndarray, rng) -> np.ndarray:
    """Zero whole 2x4 tiles of the torch-flattened (K, C*R*S) view, then half of what is left at random, so BSR
    skips real blocks and CSR real entries."""
    flat = weight.reshape(weight.shape[0], -1).copy()
    tiles = rng.random((flat.shape[0] // 2, flat.shape[1] // 4)) < 0.4
    flat[np.kron(tiles, np.ones((2, 4), dtype=bool))] = 0.0
    flat[rng.random(flat.shape) < 0.5] = 0.0
    return flat.reshape(weight.shape)


def make_layer(op: str, pruning: str) -> Layer:
    """Conv: stride 2, padding 1, dilation 2, groups 2 (4 x 36 per group, tiled by 2x4); linear 6 x 8; static
    matmul G=2 of 4 x 8. `pruning` "nm" is 2:4 along the channels-last reduction, "block" is not."""
    rng = np.random.default_rng({"conv": 1, "linear": 2, "matmul": 3}[op])
    torch.manual_seed(0)
    if op == "conv":
        conv = nn.Conv2d(8, 8, 3, groups=2, bias=False)
        weight = _nm_pruned(conv) if pruning == "nm" else _block_and_random_pruned(conv.weight.detach().numpy(), rng)
        if pruning == "block":
            weight[0, :, 0, 0] = 1.0  # 4 nonzero consecutive channels: certainly not 2:4
        return Layer("conv", "conv2d", rng.standard_normal((2, 8, 7, 7)), weight, stride=2, padding=1, dilation=2,
                     groups=2)
    if op == "linear":
        fc = nn.Linear(8, 6, bias=False)
        weight = _nm_pruned(fc) if pruning == "nm" else _block_and_random_pruned(fc.weight.detach().numpy(), rng)
        if pruning == "block":
            weight[0, :4] = 1.0
        return Layer("fc", "linear", rng.standard_normal((3, 8)), weight)
    weight = rng.standard_normal((2, 8, 4))  # (G, C, K): the reduction C is axis 1
    if pruning == "nm":  # keep the 2 largest |w| of each 4 consecutive c, for each (g, k)
        groups = np.abs(weight).reshape(2, 2, 4, 4)
        keep = np.argsort(-groups, axis=2, kind="stable")[:, :, :2]
        mask = np.zeros_like(groups, dtype=bool)
        np.put_along_axis(mask, keep, True, axis=2)
        weight = weight * mask.reshape(2, 8, 4)
    else:
        weight = np.stack([_block_and_random_pruned(weight[g].T, rng).T for g in range(2)])
        weight[0, :4, 0] = 1.0
    return Layer("mm", "matmul", rng.standard_normal((2, 3, 8)), weight)


@pytest.mark.parametrize("pruning", ["nm", "block"])
@pytest.mark.parametrize("op", ["conv", "linear", "matmul"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_output_through_the_format_equals_the_reference(kernel, op, pruning):
    layer = make_layer(op, pruning)
    result = LibraryKernels().simulate(layer, gpu_arch(kernel), compute_output=True)
    expected = reference_output(layer)
    assert result.output.shape == expected.shape
    np.testing.assert_allclose(result.output, expected, rtol=1e-10, atol=1e-12)
    assert sum(result.stall_cycles.values()) <= result.cycles
    assert result.effectual_macs <= result.macs


def test_weights_are_pruned_as_intended():
    # the fixtures themselves: "nm" is 2:4 along rsc, "block" is not and has empty 2x4 tiles
    for op in ("conv", "linear", "matmul"):
        assert gemm_features(make_layer(op, "nm"), parallel_units=4).is_2_4
        block = gemm_features(make_layer(op, "block"), parallel_units=4, block=(2, 4))
        assert not block.is_2_4
        assert 0 < block.nonzero_blocks < block.groups * block.k * block.reduction // 8


def test_2_4_weight_runs_as_2_4_and_other_weights_run_dense_with_a_note():
    layer = make_layer("conv", "nm")
    arch = gpu_arch("2:4")
    result = LibraryKernels().simulate(layer, arch)
    assert result.notes == (UNMEASURED_NOTE,)  # no fallback; only the datasheet caveat
    assert result.macs_issued == layer.macs // 2
    f = gemm_features(layer, parallel_units=132, block=(2, 4))
    assert result.cycles == int(np.ceil(predict(f, "2:4", "fp16", arch.dataflow.config.kernels).total_s
                                        * arch.clock_hz))
    other = make_layer("conv", "block")
    fallback = LibraryKernels().simulate(other, arch)
    assert any("not 2:4" in note and "runs dense" in note for note in fallback.notes)
    assert fallback.macs_issued == other.macs
    dense_fp16 = load_arch("h100-sxm", ["dataflow.kernel=dense", "dataflow.dtype=fp16"])
    assert fallback.cycles == LibraryKernels().simulate(other, dense_fp16).cycles


def test_csr_issues_only_the_stored_entries():
    layer = make_layer("linear", "block")
    result = LibraryKernels().simulate(layer, gpu_arch("csr"))
    assert result.macs_issued == np.count_nonzero(layer.weight) * 3  # nnz x M (N=3 tokens)


def test_sparser_weights_are_never_predicted_slower_under_csr():
    # nested masks: each keeps a subset of the previous one's nonzeros
    rng = np.random.default_rng(5)
    weight, score = rng.standard_normal((64, 96)), rng.random((64, 96))
    x = rng.standard_normal((32, 96))
    cycles = []
    for keep in (1.0, 0.7, 0.5, 0.3, 0.1, 0.02, 0.0):
        layer = Layer("fc", "linear", x, np.where(score < keep, weight, 0.0))
        cycles.append(LibraryKernels().simulate(layer, gpu_arch("csr")).cycles)
        assert predicted_time(layer, gpu_arch("csr")).total_s * gpu_arch("csr").clock_hz <= cycles[-1]
    assert cycles == sorted(cycles, reverse=True)
    assert cycles[0] > cycles[-1]


def test_dense_twin_runs_the_dense_kernel():
    arch = gpu_arch("csr")
    config = LibraryKernels().dense_config(arch.dataflow.config)
    assert config.kernel == "dense"
    assert config.model_copy(update={"kernel": "csr"}) == arch.dataflow.config  # nothing else changed
    assert dense_reference_arch(arch).dataflow.config.kernel == "dense"


def test_bsr_blocks_that_do_not_tile_are_refused():
    layer = make_layer("linear", "block")  # 6 x 8: 3 divides 6 but 5 does not divide 8
    with pytest.raises(ValueError, match=r"'fc'.*3x5 BSR blocks do not tile its 6 x 8 weight"):
        LibraryKernels().simulate(layer, gpu_arch("bsr", block="3x5"))


def test_2_4_in_fp32_is_refused_at_load_naming_the_dtypes():
    with pytest.raises(ValueError, match=r"no 2:4 parameters for fp32 \(it has: bf16, fp16\)"):
        load_arch("h100-sxm", ["dataflow.kernel=2:4"])


def test_h200_per_entry_costs_are_below_h100s():
    # the same GH100 compute with faster HBM: CSR's bandwidth-bound per-entry costs are lower on the H200
    layer = make_layer("linear", "block")
    h100, h200 = gpu_arch("csr", "h100-sxm"), gpu_arch("csr", "h200")
    assert predicted_time(layer, h200).total_s < predicted_time(layer, h100).total_s


@pytest.mark.parametrize("name", ["h100-sxm", "h200"])
def test_datasheet_archs_say_on_every_layer_that_they_are_unmeasured(name):
    arch = gpu_arch("csr", name)
    assert arch.dataflow.config.parameters_measured is False
    for op in ("conv", "linear", "matmul"):
        assert UNMEASURED_NOTE in LibraryKernels().simulate(make_layer(op, "block"), arch).notes
    assert "latency and energy are unvalidated" in UNMEASURED_NOTE


def test_the_fitted_cpu_arch_carries_no_caveat():
    arch = load_arch("cpu-xeon-2vcpu")
    assert arch.dataflow.config.parameters_measured is True
    assert UNMEASURED_NOTE not in LibraryKernels().simulate(make_layer("linear", "block"), arch).notes


@pytest.mark.usefixtures("digits_cache")
def test_accelsim_run_on_h100():
    result = CliRunner().invoke(app, ["run", "--arch", "h100-sxm", "--model", "digits-cnn", "--prune",
                                      "unstructured:0.8"])
    assert result.exit_code == 0, result.output
    assert "h100-sxm" in result.output and "total (4 layers)" in result.output
    assert "datasheet-derived" in " ".join(result.output.split())  # the caveat, however the terminal wraps it
