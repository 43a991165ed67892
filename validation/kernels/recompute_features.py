"""Recompute the weight features of a measured dataset's rows from the same seeded, pruned weights, and rewrite the
CSV in today's columns (`accelsim.kernel_bench.bench.COLUMNS`), timings untouched.

Features are read from the weights, never from the timings, and the zoo models are seeded (accelsim.frontend.zoo):
the grid's workloads are rebuilt exactly as measure.py built them. Before a row is rewritten, every feature it
recorded is recomputed and must agree (nonzeros, blocks, 2:4, shape; and any feature column that has since been
dropped, by its old definition), so a rewritten dataset is the measured one with columns added, or the script stops.

    python validation/kernels/recompute_features.py --data validation/kernels/data/cpu.csv   # ~6 minutes on 2 cores

Run it when the features change (this time: `nnz_busiest_unit`, the busiest of `parallel_units` contiguous row
chunks, gave way to `nnz_densest_row` and `blocks_densest_row`, which do not depend on the device).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from rich.progress import track

from accelsim.dataflows.library_kernels.features import gemm_features, weight_matrices
from accelsim.frontend.build import build_workload
from accelsim.kernel_bench.bench import COLUMNS, read_timings

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import LAYERS, MODELS  # noqa: E402  (the grid as it was measured)

CHECKED = ("m", "reduction", "k", "groups", "nnz", "parallel_units", "nonzero_blocks", "is_2_4")


def busiest_contiguous_chunk(layer, units: int) -> int:
    """The dropped `nnz_busiest_unit`, by its old definition: the nonzeros of the busiest of `units` contiguous,
    equal row chunks of each group's weight, summed over groups."""
    busiest = 0
    for matrix in weight_matrices(layer, "crs"):
        row_nnz = np.count_nonzero(matrix, axis=1)
        busiest += max(int(chunk.sum()) for chunk in np.array_split(row_nnz, min(units, matrix.shape[0])))
    return busiest


def recompute(rows: list[dict]) -> list[dict]:
    """The rows with today's features, each checked against what it recorded."""
    out: list[dict | None] = [None] * len(rows)
    cells = sorted({(row["model"], row["scheme"]) for row in rows})
    for model, scheme in track(cells, description="rebuilding the grid's weights"):
        workload = build_workload(model, scheme, input_shape=MODELS[model](1)).workload
        layers = {layer.name: layer for layer in workload.layers if LAYERS[model].match(layer.name)}
        for index, row in enumerate(rows):
            if (row["model"], row["scheme"]) == (model, scheme):
                out[index] = _checked_row(row, layers[row["layer"]])
    return out


def _checked_row(row: dict, layer) -> dict:
    block = tuple(int(part) for part in (row["block"] or "16x16").split("x"))
    units, batch = int(row["parallel_units"]), int(row["batch"])
    features = gemm_features(layer, parallel_units=units, block=block).as_dict()
    features["m"] *= batch  # the layer was rebuilt at batch 1: M is pixels (or tokens) x batch
    for name in CHECKED:
        recorded = row[name] == "True" if name == "is_2_4" else int(float(row[name]))
        if recorded != features[name]:
            raise SystemExit(f"{row['model']} {row['scheme']} b{batch} {row['layer']} {row['kernel']}: recorded "
                             f"{name} = {row[name]}, recomputed {features[name]}: not the measured weights, nothing "
                             f"rewritten")
    if "nnz_busiest_unit" in row and int(row["nnz_busiest_unit"]) != busiest_contiguous_chunk(layer, units):
        raise SystemExit(f"{row['model']} {row['scheme']} {row['layer']}: nnz_busiest_unit does not recompute")
    if not np.isclose(float(row["density"]), int(row["nnz"]) / (features["reduction"] * features["k"]
                                                                 * features["groups"])):
        raise SystemExit(f"{row['model']} {row['scheme']} {row['layer']}: density does not recompute")
    fresh = {**row, **{name: features[name] for name in ("nnz_densest_row", "blocks_densest_row")}}
    return {column: fresh[column] for column in COLUMNS}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE / "data" / "cpu.csv")
    args = parser.parse_args(argv)
    rows = read_timings(args.data)
    before = list(rows[0])
    started = time.perf_counter()
    rewritten = recompute(rows)
    with args.data.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rewritten)
    provenance_path = args.data.with_suffix(".provenance.json")
    info = json.loads(provenance_path.read_text())
    info.setdefault("features_recomputed", []).append({
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", "validation/kernels/recompute_features.py", *(argv or sys.argv[1:])]),
        "columns_added": [c for c in COLUMNS if c not in before],
        "columns_dropped": [c for c in before if c not in COLUMNS],
        "checked_equal": [*CHECKED, "density", *(["nnz_busiest_unit"] if "nnz_busiest_unit" in before else [])]})
    provenance_path.write_text(json.dumps(info, indent=1))
    print(f"rewrote {len(rewritten)} rows of {args.data} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
