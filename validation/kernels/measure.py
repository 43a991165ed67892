"""Measure the fixed validation grid of real kernel timings on one device and append it to data/<device>.csv.

Grid (issue 6): resnet50 and bert-base (128 tokens a sequence); batch 1 and 32; pruning none (dense weights),
unstructured 50/80/90/95/99 %, nm:2:4, block:16x16 at 50 and 90 %. For every layer and scheme the sparse kernels the
device has are timed (`accelsim.kernel_bench.torch_kernels.default_kernels`); dense kernels only under "none", since a
dense GEMM's time does not depend on the values of its operands (zeros included), and the report joins them by layer.

Resumable: a finished (model, batch, scheme) is recorded in data/<device>.done.json and skipped on a rerun; rows
reach the CSV as they are measured, so an interrupted run keeps what it timed (a half-done cell is re-measured).

    python validation/kernels/measure.py --device cpu      # about 25 minutes on 2 cores, on an otherwise idle machine
    python validation/kernels/measure.py --device cuda     # on a GPU machine
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import torch

from accelsim.frontend.build import build_workload
from accelsim.kernel_bench.bench import COLUMNS, bench_workload, read_timings
from accelsim.kernel_bench.device_info import provenance, resolve_device
from accelsim.kernel_bench.torch_kernels import KernelSpec

HERE = Path(__file__).resolve().parent
MODELS = {"resnet50": lambda batch: (batch, 3, 224, 224), "bert-base": lambda batch: (batch, 128)}
# BERT-base's 12 encoder layers have the same six GEMM shapes and like weight statistics: the grid times encoder
# layers 0, 6 and 11 and the pooler (19 of its 73 weight layers) to keep a CPU run under an hour. ResNet-50: all.
LAYERS = {"resnet50": re.compile(".*"), "bert-base": re.compile(r"(encoder\.layer\.(0|6|11)\.|pooler)")}
BATCHES = (1, 32)
SCHEMES = ("none", "unstructured:0.5", "unstructured:0.8", "unstructured:0.9", "unstructured:0.95",
           "unstructured:0.99", "nm:2:4", "block:16x16:0.5", "block:16x16:0.9")


def kernel_specs(device: torch.device, scheme: str) -> list[KernelSpec] | None:
    """None (every default kernel) for the dense weights; the sparse ones otherwise."""
    if scheme == "none":
        return None
    dtypes = ("fp32",) if device.type == "cpu" else ("fp32", "fp16")
    specs = [KernelSpec("csr", dtype) for dtype in dtypes]
    if scheme.startswith("block:"):
        specs += [KernelSpec("bsr", dtype, (16, 16)) for dtype in dtypes]
    if scheme.startswith("nm:") and device.type == "cuda":
        specs += [KernelSpec("2:4", dtype) for dtype in ("fp16", "bf16")]
    return specs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=HERE / "data")
    parser.add_argument("--name", help="file stem (default: cpu or the GPU's name)")
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    info = provenance(device, ["python", "validation/kernels/measure.py", *(argv or sys.argv[1:])])
    stem = args.name or ("cpu" if device.type == "cpu" else info["device"].lower().replace(" ", "-"))
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path, done_path = args.out / f"{stem}.csv", args.out / f"{stem}.done.json"
    done = json.loads(done_path.read_text()) if done_path.exists() else []
    rows = _read_rows(csv_path)
    provenance_path = args.out / f"{stem}.provenance.json"
    if provenance_path.exists():  # a resumed run keeps what earlier runs recorded
        earlier = json.loads(provenance_path.read_text())
        info["skipped"] = earlier.get("skipped", {})
        info["earlier_runs"] = [*earlier.get("earlier_runs", []), {k: earlier[k] for k in ("date_utc", "command")}]
    cells = [(model, batch, scheme) for model in args.models for batch in BATCHES for scheme in SCHEMES]
    for model, batch, scheme in cells:
        key = f"{model}|{batch}|{scheme}"
        if key in done:
            continue
        started, load_before = time.perf_counter(), os.getloadavg()[0]
        rows = [row for row in rows if (row["model"], str(row["batch"]), row["scheme"]) != (model, str(batch), scheme)]
        _write_rows(csv_path, rows)  # drop a half-measured cell before re-measuring it
        workload = build_workload(model, scheme, input_shape=MODELS[model](batch)).workload
        workload = replace(workload, layers=tuple(layer for layer in workload.layers
                                                  if LAYERS[model].match(layer.name)))
        block = (16, 16) if scheme.startswith("block:") else None
        with csv_path.open("a", newline="") as handle:
            result = bench_workload(workload, device, specs=kernel_specs(device, scheme), block=block,
                                    on_row=_row_writer(handle))
        rows = _read_rows(csv_path)
        done.append(key)
        done_path.write_text(json.dumps(done, indent=1))
        info.setdefault("skipped", {})[key] = result.skipped
        # Other work on the machine slows threaded kernels many times over (threads wait on a descheduled
        # sibling): the 1-minute load average around each cell lets a reader spot a disturbed one.
        info.setdefault("cells", {})[key] = {"seconds": round(time.perf_counter() - started, 1),
                                             "load_average_before": round(load_before, 2),
                                             "load_average_after": round(os.getloadavg()[0], 2)}
        provenance_path.write_text(json.dumps(info, indent=1))
        print(f"{key}: {len(result.rows)} kernels in {time.perf_counter() - started:.0f} s, "
              f"{len(result.skipped)} skipped", flush=True)
        for reason, layers in Counter(f"{item['kernel']}: {item['reason']}" for item in result.skipped).items():
            print(f"  not timed on {layers} layer(s): {reason}", flush=True)
    info["grid"] = {"models": list(MODELS), "batches": list(BATCHES), "schemes": list(SCHEMES)}
    provenance_path.write_text(json.dumps(info, indent=1))


def _row_writer(handle):
    writer = csv.DictWriter(handle, fieldnames=COLUMNS)

    def write(row: dict) -> None:
        writer.writerow(row)
        handle.flush()
    return write


def _read_rows(path: Path) -> list[dict]:
    return read_timings(path) if path.exists() else []


def _write_rows(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
