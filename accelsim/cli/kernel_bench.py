"""`accelsim kernel-bench`: time a pruned model's layers under real dense and sparse library kernels."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import typer
from rich.table import Table

from accelsim.cli.common import check_output_file, console, error_console, fail, progress_bar


def kernel_bench_command(
    model: str = typer.Option(..., "--model", "-m", help="Zoo model to prune and lower, e.g. resnet50, bert-base."),
    prune: str = typer.Option("none", "--prune", "-p", help="Pruning scheme, e.g. unstructured:0.9, nm:2:4."),
    device: str = typer.Option("cpu", "--device", "-d", help="cpu or cuda (cuda:N)."),
    batch: int = typer.Option(1, "--batch", "-b", min=1, help="Images or sequences per batch."),
    output: Path = typer.Option(..., "--output", "-o", help="CSV to write, one row per layer and kernel; its "
                                "provenance goes beside it as <name>.provenance.json."),
    kernels: str = typer.Option(None, "--kernels", help="Comma-separated kernel.dtype list, e.g. dense.fp32,csr.fp32,"
                                "bsr.fp32,2:4.fp16 (default: what the device has for this weight)."),
    block: str = typer.Option(None, "--block", help="BSR block, e.g. 16x16 (default: a block scheme's own)."),
    seed: int = typer.Option(0, help="Seed for weights, example input and random pruning."),
) -> None:
    """Time every lowered layer (as a GEMM: conv as im2col) under dense, CSR, BSR and 2:4 kernels on its real
    pruned weights: warm-up, median of many repeats, rotating inputs, each result checked against float64."""
    from accelsim.frontend.build import build_workload
    from accelsim.frontend.zoo import get_model
    from accelsim.kernel_bench.bench import COLUMNS, bench_workload
    from accelsim.kernel_bench.device_info import provenance, resolve_device
    from accelsim.pruning import parse_scheme

    check_output_file("--output", output, (".csv",))
    try:
        torch_device = resolve_device(device)
        scheme = parse_scheme(prune, seed=seed)
        block_shape = _parse_block(block) if block else _scheme_block(scheme)
        specs = _parse_kernels(kernels, block_shape) if kernels else None
        shape = (batch, *get_model(model).default_input_shape[1:])
        with progress_bar() as progress, output.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            task = progress.add_task(f"lowering {model} ({prune}, batch {batch})", total=None)
            workload = build_workload(model, prune, seed=seed, input_shape=shape).workload
            progress.update(task, visible=False)
            task = progress.add_task(f"timing on {device}", total=len(workload))
            result = bench_workload(workload, torch_device, specs=specs, block=block_shape,
                                    on_row=lambda row: (writer.writerow(row), handle.flush()),
                                    on_layer=lambda layer: progress.advance(task))
    except (ValueError, KeyError, RuntimeError, OSError) as error:
        fail(str(error) if not isinstance(error, KeyError) else str(error).strip("'\""))
    info = provenance(torch_device)
    info["skipped"] = result.skipped
    provenance_path = output.with_name(output.stem + ".provenance.json")
    provenance_path.write_text(json.dumps(info, indent=1))
    console.print(_summary_table(result.rows, f"{model} — {prune}, batch {batch}, {info['device']}"))
    for item in result.skipped:
        error_console.print(f"[yellow]not timed:[/] {item['layer']} {item['kernel']}: {item['reason']}")
    console.print(f"wrote {len(result.rows)} timings to {output} and provenance to {provenance_path}")


def _summary_table(rows: list[dict], title: str) -> Table:
    """Per kernel: layers timed, total median time and speedup over dense fp32 on the same layers."""
    from accelsim.kernel_bench.agreement import kernel_label

    totals: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        totals[kernel_label(row)][row["layer"]] = row["median_s"]
    dense = totals.get("dense.fp32", {})
    table = Table(title=title, title_justify="left")
    for column in ("kernel", "layers", "total (ms)", "speedup vs dense.fp32"):
        table.add_column(column, justify="left" if column == "kernel" else "right")
    for label, times in totals.items():
        shared = [layer for layer in times if layer in dense]
        speedup = sum(dense[layer] for layer in shared) / sum(times[layer] for layer in shared) if shared else None
        table.add_row(label, str(len(times)), f"{sum(times.values()) * 1e3:.3f}",
                      f"{speedup:.2f}x" if speedup else "-")
    return table


def _parse_block(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--block {text!r}: give ROWSxCOLS, e.g. 16x16") from None
    if rows < 1 or cols < 1:
        raise ValueError(f"--block {text!r}: both sizes must be at least 1")
    return rows, cols


def _scheme_block(scheme) -> tuple[int, int] | None:
    rows, cols = getattr(scheme, "block_rows", None), getattr(scheme, "block_cols", None)
    return (rows, cols) if rows and cols else None


def _parse_kernels(text: str, block: tuple[int, int] | None):
    from accelsim.kernel_bench.torch_kernels import KernelSpec

    specs = []
    for item in text.split(","):
        kernel, _, dtype = item.strip().rpartition(".")
        if not kernel:
            raise ValueError(f"--kernels {item!r}: give kernel.dtype, e.g. csr.fp32 or 2:4.fp16")
        specs.append(KernelSpec(kernel, dtype, block or (16, 16)))
    return specs
