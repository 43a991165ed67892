"""accelsim's SCNN against the paper's published figures (paper_figures.csv), from the SCNN study's results.

    python validation/scnn/compare.py            # compare the committed studies/scnn/results/
    python validation/scnn/compare.py --rerun    # rerun studies/scnn/run_studies.py first (several minutes)

Writes validation/scnn/comparison.csv: each figure, the paper's value, accelsim's, and accelsim / paper.
tests/test_scnn_paper.py holds the agreement to the bands in AGREEMENT_BANDS (what was achieved, stated).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = ROOT / "studies" / "scnn" / "results"

# Largest |accelsim / paper - 1| accepted per figure: the agreement reached when this table was made, rounded up
# by about three points so a rerun on another machine (identical cycles, energy rounded to 3-4 digits) passes,
# but a change that moves a figure further from the paper does not. A figure without a band is shown, not held.
AGREEMENT_BANDS = {
    # achieved |accelsim / paper - 1| (2026-12-01) in the comments
    "alexnet_speedup": 0.08,  # 0.051
    "googlenet_speedup": 0.72,  # 0.691: our GoogLeNet is pruned to 40% weight density, the paper's densities unknown
    "vgg16_speedup": 0.27,  # 0.243
    "mean_speedup": 0.33,  # 0.305 (GoogLeNet)
    "mean_energy_gain": 0.07,  # 0.037
    "min_layer_energy_gain": 0.18,  # 0.152
    "max_layer_energy_gain": 0.09,  # 0.055
    "dense_speedup": 0.17,  # 0.143
    "dense_energy_ratio": 0.09,  # 0.058
    "performance_break_even_density": 0.12,  # 0.095
    "energy_break_even_density": 0.08,  # 0.047
    "sparse_speedup": 0.12,  # 0.084
    "speedup_over_sparse_w": 0.07,  # 0.042
    "speedup_over_sparse_a": 0.10,  # 0.071
    "energy_gain_over_sparse_w": 0.05,  # 0.018
    "energy_gain_over_sparse_a": 0.07,  # 0.043
    # sparse_energy_ratio (0.133 against 0.06, 2.2x) is shown, not held: docs/scnn.md says where the energy goes
}


def read_commented_csv(path: Path) -> list[dict]:
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))


def accelsim_figures(results: Path) -> dict[str, float]:
    """Every figure of paper_figures.csv, computed from a results folder of studies/scnn/run_studies.py."""
    networks = {row["network"]: row for row in read_commented_csv(results / "speedup_per_network.csv")}
    layers = read_commented_csv(results / "speedup_per_layer.csv")
    sweep = {float(row["density"]): {key: float(value) for key, value in row.items()}
             for row in read_commented_csv(results / "density_sweep.csv")}
    break_even = json.loads((results / "density_break_even.json").read_text())["SCNN"]
    speedups = [float(networks[name]["speedup"]) for name in ("alexnet", "googlenet", "vgg16")]
    energy_gains = [float(networks[name]["energy_ratio"]) for name in ("alexnet", "googlenet", "vgg16")]
    layer_gains = [float(row["energy_ratio"]) for row in layers]
    at_04 = sweep[0.4]
    return {
        "alexnet_speedup": speedups[0], "googlenet_speedup": speedups[1], "vgg16_speedup": speedups[2],
        "mean_speedup": sum(speedups) / 3, "mean_energy_gain": sum(energy_gains) / 3,
        "min_layer_energy_gain": min(layer_gains), "max_layer_energy_gain": max(layer_gains),
        "dense_speedup": sweep[1.0]["SCNN_speedup"], "dense_energy_ratio": sweep[1.0]["SCNN_energy_ratio"],
        "performance_break_even_density": break_even["performance_break_even_density"],
        "energy_break_even_density": break_even["energy_break_even_density"],
        "sparse_speedup": sweep[0.1]["SCNN_speedup"], "sparse_energy_ratio": sweep[0.1]["SCNN_energy_ratio"],
        "speedup_over_sparse_w": at_04["SCNN_speedup"] / at_04["SCNN-SparseW_speedup"],
        "speedup_over_sparse_a": at_04["SCNN_speedup"] / at_04["SCNN-SparseA_speedup"],
        "energy_gain_over_sparse_w": at_04["SCNN-SparseW_energy_ratio"] / at_04["SCNN_energy_ratio"],
        "energy_gain_over_sparse_a": at_04["SCNN-SparseA_energy_ratio"] / at_04["SCNN_energy_ratio"],
    }


def comparison_rows(results: Path = RESULTS) -> list[dict]:
    ours = accelsim_figures(results)
    rows = []
    for paper in read_commented_csv(HERE / "paper_figures.csv"):
        figure, paper_value = paper["figure"], float(paper["paper_value"])
        value = ours[figure]
        band = AGREEMENT_BANDS.get(figure)
        rows.append({"figure": figure, "description": paper["description"], "paper": paper_value,
                     "accelsim": round(value, 3), "accelsim_over_paper": round(value / paper_value, 3),
                     "band": "" if band is None else band, "caveat": paper["caveat"]})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rerun", action="store_true", help="rerun studies/scnn/run_studies.py first")
    args = parser.parse_args()
    if args.rerun:
        subprocess.run([sys.executable, str(ROOT / "studies" / "scnn" / "run_studies.py")], check=True)
    rows = comparison_rows()
    path = HERE / "comparison.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    width = max(len(row["figure"]) for row in rows)
    print(f"{'figure':<{width}}  {'paper':>7}  {'accelsim':>8}  {'ratio':>6}  band")
    for row in rows:
        print(f"{row['figure']:<{width}}  {row['paper']:>7}  {row['accelsim']:>8}  {row['accelsim_over_paper']:>6}"
              f"  {row['band']}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
