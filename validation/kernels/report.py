"""Fit a device's kernel model to the training rows of its measured timings, write the fitted arch, and report how
well it predicts: per-kernel MAPE and worst case on held-out rows, speedup-sign agreement, rank correlation of
schemes, and plots. The arch is fitted on the GEMM-shape split's training rows; each model-to-model split
(`accelsim.kernel_bench.splits`) is refitted on its own training rows and reported beside it.

    python validation/kernels/report.py --data validation/kernels/data/cpu.csv --arch cpu-xeon-2vcpu
    python validation/kernels/report.py --data validation/kernels/data/nvidia-h200.csv --arch h200 \
        --template validation/kernels/h200_arch_template.yaml   # write the template first (from h200.yaml)

writes arch_configs/<arch>.yaml (the fitted parameters) and validation/kernels/results/<stem>_*:
agreement JSON (every split's figures, what tests/test_kernel_validation.py recomputes), per-row predictions CSV
(shape split), two figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import ticker
from rich.console import Console
from rich.table import Table

from accelsim.arch_configs import load_arch
from accelsim.dataflows.library_kernels.kernel_models import LIBRARY_KERNELS
from accelsim.dataflows.library_kernels.params import DeviceKernels
from accelsim.kernel_bench.agreement import agreement_of, kernel_label, speedup_pairs, with_predictions
from accelsim.kernel_bench.bench import read_timings
from accelsim.kernel_bench.fit import fit_row_sparse, fit_tiled
from accelsim.kernel_bench.splits import SHAPE_SPLIT, Split, model_splits
from accelsim.report.study_files import StudyFiles

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]
ARCH_TEMPLATE = HERE / "cpu_arch_template.yaml"
TEMPLATE_FIELDS = ("parameters_source", "parameters_measured", "kernels")


FRESH_OUTPUT_BYTES = {"cpu": 32 * 2**20}  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit Linux; GPUs: none
# The sparse kernels' work split, given to the fit (RowSparseParams.columns_per_task): MKL's threads share out rows
# (its split is not documented; with 2 threads and 64 or more rows the columns need no splitting); a GPU row-split
# SpMM gives each warp one row and 32 columns.
COLUMNS_PER_TASK = {"cpu": None, "cuda": 32}


def fit_device(rows: list[dict], fresh_output_bytes: int | None = FRESH_OUTPUT_BYTES["cpu"],
               bandwidth_prior_gbytes_per_s: float | None = None, split: Split = SHAPE_SPLIT,
               columns_per_task: int | None = COLUMNS_PER_TASK["cpu"]) -> tuple[DeviceKernels, dict[str, list[str]]]:
    """Fit every (kernel, dtype) present in the training rows of `split`: the parameters, and per "kernel.dtype"
    the notes of what the fit held fixed or pinned at a bound."""
    train = split.training(rows)
    fitted: dict[str, dict] = {kernel.params_field: {} for kernel in LIBRARY_KERNELS.values()}
    notes: dict[str, list[str]] = {}
    for name, kernel in LIBRARY_KERNELS.items():
        for dtype in sorted({row["dtype"] for row in train if row["kernel"] == name}):
            mine = [row for row in train if row["kernel"] == name and row["dtype"] == dtype]
            if kernel.fit_family == "tiled":
                fit = fit_tiled(mine, dtype, fresh_output_bytes=fresh_output_bytes, sparse_2_4=name == "2:4",
                                bandwidth_prior_gbytes_per_s=bandwidth_prior_gbytes_per_s)
            else:
                fit = fit_row_sparse(mine, name, fresh_output_bytes, columns_per_task=columns_per_task)
            fitted[kernel.params_field][dtype] = fit.params
            notes[f"{name}.{dtype}"] = list(fit.notes)
    return DeviceKernels(**fitted, fresh_output_bytes=fresh_output_bytes), notes


def arch_yaml(kernels: DeviceKernels, data: Path, rows: int, template: Path = ARCH_TEMPLATE,
              notes: dict[str, list[str]] | None = None) -> str:
    """The template arch (its `{kernels}`, `{parameters_source}` and `{parameters_measured}` filled in) with the
    fitted parameters, each kernel's fit notes as comments above it. Only this writes `parameters_measured: true`."""
    text = template.read_text()
    missing = ["{" + name + "}" for name in TEMPLATE_FIELDS if "{" + name + "}" not in text]
    if missing:
        needed = ", ".join("{" + name + "}" for name in TEMPLATE_FIELDS)
        raise ValueError(f"{template}: an arch template needs {needed} to fill; missing {', '.join(missing)}")
    lines = []
    for kernel in LIBRARY_KERNELS.values():
        table = getattr(kernels, kernel.params_field)
        if table:
            lines.append(f"    {kernel.params_field}:")
        for dtype, params in table.items():
            for note in (notes or {}).get(f"{kernel.name}.{dtype}", []):
                lines.append(f"      # fit: {note}")
            values = ", ".join(f"{key}: {_number(value)}" for key, value in params.model_dump().items()
                               if value is not None)
            lines.append(f"      {dtype}: {{{values}}}")
    source = f"fitted by validation/kernels/report.py on the {rows} training rows of {data.relative_to(REPOSITORY)}"
    if kernels.fresh_output_bytes is not None:
        lines.append(f"    fresh_output_bytes: {kernels.fresh_output_bytes}")
    return (text.replace("{parameters_source}", source).replace("{parameters_measured}", "true")
            .replace("{kernels}", "\n".join(lines)))


def _number(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_number(key)}: {_number(item)}" for key, item in value.items()) + "}"
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def plot_predicted_vs_measured(rows: list[dict], title: str):
    labels = sorted({kernel_label(row) for row in rows})
    figure, axes = plt.subplots(1, len(labels), figsize=(5 * len(labels), 4.6), squeeze=False)
    for axis, label in zip(axes[0], labels, strict=True):
        for held, colour, name in ((False, "tab:blue", "training"), (True, "tab:orange", "held out")):
            mine = [r for r in rows if kernel_label(r) == label and r["held_out"] == held]
            axis.scatter([r["measured_s"] * 1e3 for r in mine], [r["predicted_s"] * 1e3 for r in mine], s=7,
                         alpha=0.6, color=colour, label=f"{name} ({len(mine)})")
        low = min(min(r["measured_s"], r["predicted_s"]) for r in rows if kernel_label(r) == label) * 1e3
        high = max(max(r["measured_s"], r["predicted_s"]) for r in rows if kernel_label(r) == label) * 1e3
        axis.plot([low, high], [low, high], "k-", lw=0.8)
        axis.fill_between([low, high], [low * 0.75, high * 0.75], [low * 1.25, high * 1.25], color="grey", alpha=0.15,
                          label="±25%")
        axis.set(xscale="log", yscale="log", xlabel="measured (ms)", ylabel="predicted (ms)", title=label)
        axis.legend(fontsize=8)
    figure.suptitle(title)
    return figure


def plot_speedups(rows: list[dict], title: str):
    """Network speedup over dense fp32 per scheme: measured vs predicted, per model, batch and sparse kernel."""
    pairs = speedup_pairs(rows)
    groups = sorted({(p["model"], str(p["batch"])) for p in pairs})
    figure, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 4.6), squeeze=False)
    for axis, (model, batch) in zip(axes[0], groups, strict=True):
        mine = [p for p in pairs if (p["model"], str(p["batch"])) == (model, batch)]
        order = list(dict.fromkeys(p["scheme"] for p in mine))  # one x position per scheme for every kernel
        for label in sorted({kernel_label(p) for p in mine}):
            by_scheme: dict[str, list[float]] = {}
            for p in mine:
                if kernel_label(p) == label:
                    totals = by_scheme.setdefault(p["scheme"], [0.0, 0.0, 0.0, 0.0])
                    totals[0] += p["measured_s"] * p["measured_speedup"]  # the layer's dense time
                    totals[1] += p["measured_s"]
                    totals[2] += p["predicted_s"] * p["predicted_speedup"]
                    totals[3] += p["predicted_s"]
            schemes = [s for s in order if s in by_scheme]
            x = [order.index(s) for s in schemes]
            axis.plot(x, [by_scheme[s][0] / by_scheme[s][1] for s in schemes], "o-", label=f"{label} measured")
            axis.plot(x, [by_scheme[s][2] / by_scheme[s][3] for s in schemes], "x--", label=f"{label} predicted")
        axis.set_xticks(range(len(order)), order, rotation=60, ha="right", fontsize=7)
        axis.axhline(1, color="k", lw=0.8)
        axis.set(yscale="log", ylabel="speedup over dense fp32", title=f"{model}, batch {batch}")
        axis.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        axis.yaxis.set_minor_formatter(ticker.NullFormatter())
        axis.legend(fontsize=7)
    figure.suptitle(title)
    return figure


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE / "data" / "cpu.csv")
    parser.add_argument("--arch", default="cpu-xeon-2vcpu", help="name of the arch YAML to write")
    parser.add_argument("--template", type=Path,
                        help="arch YAML with {kernels}, {parameters_source} and {parameters_measured} to fill "
                             "(needed for a GPU; "
                             "default for a CPU dataset: cpu_arch_template.yaml)")
    parser.add_argument("--bandwidth-prior-gbytes-per-s", type=float,
                        help="the device's datasheet memory bandwidth: where no measured dense row is memory-bound, "
                             "the fit holds the bandwidth there (default: the lowest the timings allow)")
    args = parser.parse_args(argv)
    rows = read_timings(args.data)
    device = json.loads(args.data.with_suffix(".provenance.json").read_text())
    if args.template is None and device["device_type"] != "cpu":
        parser.error(f"{args.data} was measured on a {device['device_type']} device ({device['device']}): give "
                     f"--template, an arch YAML for it with {{kernels}}, {{parameters_source}} and "
                     f"{{parameters_measured}} to fill")
    args.template = args.template or ARCH_TEMPLATE
    fresh_output_bytes = FRESH_OUTPUT_BYTES.get(device["device_type"])
    columns_per_task = COLUMNS_PER_TASK[device["device_type"]]
    kernels, fit_notes = fit_device(rows, fresh_output_bytes, args.bandwidth_prior_gbytes_per_s,
                                    columns_per_task=columns_per_task)
    training_rows = len(SHAPE_SPLIT.training(rows))
    arch_path = REPOSITORY / "arch_configs" / f"{args.arch}.yaml"
    arch_path.write_text(arch_yaml(kernels, args.data.resolve(), training_rows, args.template, fit_notes))
    print(f"wrote {arch_path}")
    kernels = load_arch(str(arch_path)).dataflow.config.kernels  # as written (4 significant digits), as CI reads it
    stem = args.data.stem
    files = StudyFiles(HERE / "results", REPOSITORY)
    predicted = with_predictions(rows, kernels, SHAPE_SPLIT)
    splits = {SHAPE_SPLIT.name: split_figures(predicted, SHAPE_SPLIT)}
    for split in model_splits(rows):
        split_kernels, split_notes = fit_device(rows, fresh_output_bytes, args.bandwidth_prior_gbytes_per_s, split,
                                                columns_per_task)
        splits[split.name] = {**split_figures(with_predictions(rows, split_kernels, split), split),
                              "fit_notes": split_notes}
    files.write_json(f"{stem}_agreement.json", {"data": str(args.data.resolve().relative_to(REPOSITORY)),
                                                "arch": args.arch, "fit_notes": fit_notes, "splits": splits})
    files.write_csv(f"{stem}_predictions.csv", predicted)
    name = device["device"]
    files.save_figure(plot_predicted_vs_measured(predicted, f"{name}: predicted vs measured kernel time"),
                      f"{stem}_predicted_vs_measured.png")
    files.save_figure(plot_speedups(predicted, f"{name}: network speedup of each scheme (sparse kernel / dense)"),
                      f"{stem}_speedups.png")
    for label, notes in fit_notes.items():
        for note in notes:
            print(f"{label}: {note}")
    print_summary(splits)


def split_figures(predicted: list[dict], split: Split) -> dict:
    """A split's rule, its row counts and its agreement figures (rows carry their predictions under `split`)."""
    held = sum(row["held_out"] for row in predicted)
    return {"description": split.description, "training_rows": len(predicted) - held, "held_out_rows": held,
            **agreement_of(predicted)}


def print_summary(splits: dict[str, dict]) -> None:
    table = Table(title="held-out agreement per split")
    for column in ("split", "kernel", "held-out rows", "MAPE", "within 25 %"):
        table.add_column(column, justify="left" if column in ("split", "kernel") else "right")
    for name, figures in splits.items():
        for label, entry in figures["per_kernel"].items():
            held = entry.get("held_out")
            if held:
                table.add_row(name, label, f"{held['rows']:,}", f"{held['mape']:.1%}",
                              f"{held['within_25_percent']:.0%}")
        sign = figures["speedup_sign"]["held_out"]
        ranks = [cell["spearman"] for cell in figures["scheme_rank_correlation"]["held_out"].values()]
        table.add_row(name, "speedup sign", f"{sign['scored']:,}", "", f"{sign['agreement']:.1%} right")
        if ranks:
            table.add_row(name, "scheme rank (Spearman)", f"{len(ranks)} cells", "",
                          f"{min(ranks):.2f} to {max(ranks):.2f}")
    Console().print(table)


if __name__ == "__main__":
    sys.exit(main())
