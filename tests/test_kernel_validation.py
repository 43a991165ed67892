"""The committed kernel timings and the fitted CPU model: the agreement of every split (by GEMM shape, and from
one model to another: accelsim.kernel_bench.splits) is recomputed from the data (no GPU and no timing needed) and
must not fall below what was committed. Issue 6's targets (held-out MAPE <= 25 %, speedup sign right >= 90 %) are
enforced for every kernel and split that met them when committed; the ones that did not are listed in
docs/kernels.md, and a later fit that meets them tightens this test by itself (the committed JSON is rewritten)."""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from accelsim.arch_configs import load_arch
from accelsim.kernel_bench.agreement import agreement, agreement_of, with_predictions
from accelsim.kernel_bench.bench import COLUMNS, read_timings
from accelsim.kernel_bench.fit import BOUNDS
from accelsim.kernel_bench.splits import SHAPE_SPLIT, model_splits, shape_key

ROOT = Path(__file__).resolve().parents[1]
VALIDATION = ROOT / "validation" / "kernels"
DATASETS = sorted((VALIDATION / "data").glob("*.csv"))
MAPE_TARGET = 0.25
SIGN_TARGET = 0.90
SLACK = 1e-9  # recomputed figures are the same arithmetic on the same data
REFIT_SLACK = 1e-3  # a model-to-model split is refitted here: the same fit, its parameters not rounded to 4 digits


def _script(name: str):
    """A validation/kernels script as a module (loaded by path: `report` and `measure` are common names)."""
    spec = importlib.util.spec_from_file_location(f"validation_kernels_{name}", VALIDATION / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _rows(path: Path) -> tuple[dict, ...]:
    return tuple(read_timings(path))


@functools.cache
def _refit(path: Path, split_name: str):
    """A fresh fit of `path` on one split's training rows (cached: fitting takes seconds)."""
    rows = list(_rows(path))
    split = {s.name: s for s in [SHAPE_SPLIT, *model_splits(rows)]}[split_name]
    return _script("report").fit_device(rows, split=split)


def _committed(path: Path) -> dict:
    return json.loads((VALIDATION / "results" / f"{path.stem}_agreement.json").read_text())


def _cases() -> list[tuple[Path, str]]:
    return [(path, name) for path in DATASETS for name in _committed(path)["splits"]]


def _figures(path: Path, split_name: str) -> tuple[dict, dict, float]:
    """(recomputed, committed, slack) figures of one split: the shape split from the committed arch, a model split
    from a refit on its own training rows."""
    committed = _committed(path)
    rows = list(_rows(path))
    splits = {s.name: s for s in [SHAPE_SPLIT, *model_splits(rows)]}
    assert set(committed["splits"]) == set(splits)
    if split_name == SHAPE_SPLIT.name:
        kernels, slack = load_arch(committed["arch"]).dataflow.config.kernels, SLACK
    else:
        kernels, slack = _refit(path, split_name)[0], REFIT_SLACK
    return agreement(rows, kernels, splits[split_name]), committed["splits"][split_name], slack


def test_a_cpu_dataset_is_committed():
    assert VALIDATION / "data" / "cpu.csv" in DATASETS


@pytest.mark.parametrize("path", DATASETS, ids=lambda p: p.stem)
def test_dataset_has_provenance_and_covers_the_grid(path):
    grid = _script("measure")
    rows = list(_rows(path))
    assert list(rows[0]) == list(COLUMNS)
    cells = {(row["model"], row["batch"], row["scheme"]) for row in rows}
    assert cells == {(m, str(b), s) for m in grid.MODELS for b in grid.BATCHES for s in grid.SCHEMES}
    info = json.loads(path.with_suffix(".provenance.json").read_text())
    for key in ("device", "torch_version", "date_utc", "command", "parallel_units"):
        assert info[key], key
    assert all(float(row["relative_error"]) <= float(row["tolerance"]) for row in rows)
    # a real held-out share: every model has shapes on both sides, and at least a fifth of the shapes are held out
    shapes = {(row["model"], shape_key(row)): SHAPE_SPLIT.held_out(row) for row in rows}
    for model in grid.MODELS:
        assert {held for (name, _), held in shapes.items() if name == model} == {True, False}, model
    assert sum(shapes.values()) >= len(shapes) / 5


@pytest.mark.parametrize("path, split", _cases(), ids=lambda case: getattr(case, "stem", case))
def test_per_kernel_error_on_held_out_rows(path, split):
    figures, committed, slack = _figures(path, split)
    assert set(figures["per_kernel"]) == set(committed["per_kernel"])
    for label, entry in figures["per_kernel"].items():
        mape, was = entry["held_out"]["mape"], committed["per_kernel"][label]["held_out"]["mape"]
        assert mape <= was + slack, f"{split}, {label}: held-out MAPE {mape:.1%} regressed from {was:.1%}"
        if was <= MAPE_TARGET:
            assert mape <= MAPE_TARGET, f"{split}, {label}: held-out MAPE {mape:.1%} > {MAPE_TARGET:.0%}"


@pytest.mark.parametrize("path, split", _cases(), ids=lambda case: getattr(case, "stem", case))
def test_speedup_sign_and_scheme_ranking(path, split):
    figures, committed, slack = _figures(path, split)
    for subset in ("all", "held_out"):
        share, was = figures["speedup_sign"][subset]["agreement"], committed["speedup_sign"][subset]["agreement"]
        assert share >= was - slack, f"{split}, {subset}: sign right for {share:.1%}, was {was:.1%}"
        if was >= SIGN_TARGET:
            assert share >= SIGN_TARGET, f"{split}, {subset}: sign right for {share:.1%} < {SIGN_TARGET:.0%}"
    for subset, cells in figures["scheme_rank_correlation"].items():
        assert set(cells) == set(committed["scheme_rank_correlation"][subset])
        for cell, entry in cells.items():
            was = committed["scheme_rank_correlation"][subset][cell]["spearman"]
            assert entry["spearman"] >= was - slack, f"{split}, {subset}, {cell}"


def test_refitting_the_data_gives_the_committed_predictions():
    # What a user relies on: the committed arch predicts the committed timings as a fresh fit on this machine does
    # (the committed parameters are rounded to 4 digits; a fit whose answer depended on the CPU or BLAS would not
    # agree). Held-out error and every row's prediction are compared, not the parameters' last bits.
    path = VALIDATION / "data" / "cpu.csv"
    rows = list(_rows(path))
    fitted, _ = _refit(path, SHAPE_SPLIT.name)
    committed = load_arch("cpu-xeon-2vcpu").dataflow.config.kernels
    refit, kept = with_predictions(rows, fitted), with_predictions(rows, committed)
    ratios = np.array([a["predicted_s"] / b["predicted_s"] for a, b in zip(refit, kept, strict=True)])
    assert np.max(np.abs(ratios - 1)) < 2e-3
    for label, entry in agreement_of(refit)["per_kernel"].items():
        assert entry["held_out"]["mape"] == pytest.approx(agreement_of(kept)["per_kernel"][label]["held_out"]["mape"],
                                                          abs=1e-3), label


def test_the_fit_is_well_posed():
    # A well-posed fit answers the same when the rows come in another order and the timings move by a part in a
    # million: every parameter moves by at most about that much (an ill-posed one runs away along a flat direction).
    path = VALIDATION / "data" / "cpu.csv"
    rows = list(_rows(path))
    rng = np.random.default_rng(0)
    nudged = [dict(row, median_s=repr(float(row["median_s"]) * (1 + 1e-6 * rng.standard_normal())))
              for row in rows]
    first, notes = _refit(path, SHAPE_SPLIT.name)
    second, _ = _script("report").fit_device([nudged[i] for i in rng.permutation(len(nudged))])
    for kernel in ("dense", "csr", "bsr"):
        for dtype, params in getattr(first, kernel).items():
            other = getattr(second, kernel)[dtype].model_dump()
            for key, value in params.model_dump().items():
                expected = value if value is None else pytest.approx(value, rel=1e-3, abs=1e-6)
                assert other[key] == expected, f"{kernel}.{dtype}.{key}"
    assert any("held at" in note for note in notes["dense.fp32"])  # no row is memory-bound: said, not fitted


def test_fitted_parameters_are_inside_their_physical_bounds():
    committed = load_arch("cpu-xeon-2vcpu").dataflow.config.kernels
    for table in (committed.dense, committed.csr, committed.bsr):
        for params in table.values():
            for key, value in params.model_dump().items():
                if key in BOUNDS:
                    low, high = BOUNDS[key]
                    values = value.values() if isinstance(value, dict) else [value]
                    assert all(low <= v <= high for v in values), f"{key}={value} outside [{low}, {high}]"


def test_only_the_report_marks_parameters_as_measured():
    # `parameters_measured: true` belongs to archs validation/kernels/report.py generated from a committed dataset
    for path in sorted((ROOT / "arch_configs").glob("*.yaml")):
        arch = load_arch(path.stem)
        if arch.dataflow.kind != "library_kernels":
            continue
        config = arch.dataflow.config
        generated = path.read_text().startswith("# GENERATED by validation/kernels/report.py")
        assert config.parameters_measured == generated, path.name
        if generated:
            data = config.parameters_source.split(" of ")[-1]
            assert (ROOT / data).is_file() and data.startswith("validation/kernels/data/"), config.parameters_source


def test_the_report_writes_parameters_measured_and_refuses_a_template_without_it(tmp_path):
    report = _script("report")
    kernels, notes = _refit(VALIDATION / "data" / "cpu.csv", SHAPE_SPLIT.name)
    text = report.arch_yaml(kernels, VALIDATION / "data" / "cpu.csv", 10, notes=notes)
    assert "  parameters_measured: true\n" in text and "{" + "parameters_measured}" not in text
    template = tmp_path / "gpu_template.yaml"
    template.write_text(report.ARCH_TEMPLATE.read_text().replace("  parameters_measured: {parameters_measured}\n", ""))
    with pytest.raises(ValueError, match=r"gpu_template.yaml: .*missing \{parameters_measured\}"):
        report.arch_yaml(kernels, VALIDATION / "data" / "cpu.csv", 10, template)


def test_recompute_features_adds_columns_only_when_every_recorded_feature_recomputes():
    # one linear layer, 4 rows of 0-3 nonzeros: recorded as kernel-bench wrote it before the features changed
    recompute = _script("recompute_features")
    from accelsim.workload import Layer

    weight = np.array([[1.0, 2, 3, 0], [0, 0, 0, 0], [0, 5, 0, 0], [6, 0, 7, 0]])
    layer = Layer("fc", "linear", np.ones((3, 4)), weight)
    old = {column: "" for column in COLUMNS if column not in ("nnz_densest_row", "blocks_densest_row")}
    old.update(model="m", scheme="s", batch="2", layer="fc", kernel="csr", dtype="fp32", m="6", reduction="4", k="4",
               groups="1", nnz="6", density=repr(6 / 16), parallel_units="2", nonzero_blocks="0", is_2_4="False",
               nnz_busiest_unit="3", median_s="1e-5")  # chunks rows 0-1 (3) and 2-3 (3); 16x16 blocks do not tile
    row = recompute._checked_row(old, layer)
    assert list(row) == list(COLUMNS)
    assert (row["nnz_densest_row"], row["blocks_densest_row"], row["median_s"]) == (3, 0, "1e-5")
    for name, wrong, said in (("nnz", "5", "recorded nnz = 5, recomputed 6"),
                              ("m", "3", "recorded m = 3, recomputed 6"),
                              ("nnz_busiest_unit", "4", "nnz_busiest_unit does not recompute")):
        with pytest.raises(SystemExit, match=said):
            recompute._checked_row({**old, name: wrong}, layer)
