"""What if VGG-6's output rows were uneven? (study 5 of studies/eie/run_studies.py; docs/eie.md shows the result)

eie-benchmark draws every weight matrix with uniformly random nonzero positions, so every output row of VGG-6 holds
about the same number of nonzeros (binomial: 1,004 +- 31 of 25,088). Pruned layers are not like that: magnitude
pruning keeps many weights of some output neurons and few of others. EIE gives PE k the rows i with i mod 64 = k, and
a layer ends with the busiest PE, so uneven rows cost time that the FIFOs cannot hide.

This what-if keeps VGG-6's input vector and its number of nonzero weights, and spreads the nonzeros over the rows
with a coefficient of variation `cv` across rows: row counts drawn from a gamma distribution of mean 1 and that cv,
scaled to the layer's total, each row's positions uniform among the 25,088 columns. It is a sensitivity study of a
synthetic structure, not a model of the real pruned layer, whose weights are not available here.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from accelsim.dataflows.eie import EIE

ROW_CVS = (0.0, 0.25, 0.5, 0.75, 1.0)
SEED = 15


def rows_with_cv(total: int, rows: int, columns: int, cv: float, rng: np.random.Generator) -> np.ndarray:
    """Nonzeros per row: `total` in all, none above `columns`, spread with coefficient of variation `cv` (0: even)."""
    shares = np.ones(rows) if cv == 0 else rng.gamma(1 / cv**2, cv**2, rows)
    counts = np.minimum(np.floor(shares / shares.sum() * total).astype(np.int64), columns)
    while counts.sum() < total:  # hand out what flooring and capping left, one per row, to rows with room
        room = np.flatnonzero(counts < columns)
        extra = rng.choice(room, min(total - int(counts.sum()), room.size), replace=False)
        counts[extra] += 1
    return counts


def uneven_weight(layer, cv: float, rng: np.random.Generator) -> np.ndarray:
    rows, columns = layer.weight.shape
    weight = np.zeros((rows, columns), dtype=np.float32)
    for row, count in enumerate(rows_with_cv(int(np.count_nonzero(layer.weight)), rows, columns, cv, rng)):
        values = rng.standard_normal(count, dtype=np.float32)
        values[values == 0] = 1.0  # a kept position stays nonzero, as in accelsim.frontend.synthetic
        weight[row, rng.choice(columns, count, replace=False)] = values
    return weight


def uneven_rows_study(workload, arch, files, paper_rows: list[dict]) -> list[dict]:
    layer = workload["VGG-6"]
    published = {row["layer"]: row for row in paper_rows}["VGG-6"]
    actual_us, theoretical_us = float(published["eie_actual_us"]), float(published["eie_theoretical_us"])
    rng = np.random.default_rng(SEED)
    rows = []
    for cv in ROW_CVS:
        weight = uneven_weight(layer, cv, rng)
        per_row = np.count_nonzero(weight, axis=1)
        result = EIE().simulate(dataclasses.replace(layer, weight=weight), arch)
        work_cycles = result.macs_issued / result.multipliers
        rows.append({"row_cv": cv, "nonzero_weights": int(per_row.sum()),
                     "measured_row_cv": round(float(per_row.std() / per_row.mean()), 3),
                     "cycles": result.cycles, "work_cycles": round(work_cycles),
                     "overhead": round(result.cycles / work_cycles, 3),
                     "paper_overhead": round(actual_us / theoretical_us, 3),
                     "load_balance_efficiency": round(result.metrics["load_balance_efficiency"], 4),
                     "ratio_to_paper_actual": round(result.cycles / arch.clock_hz * 1e6 / actual_us, 3)})
        del weight
    files.write_csv("vgg6_uneven_rows.csv", rows)
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot([row["measured_row_cv"] for row in rows], [row["overhead"] for row in rows], marker="o",
              label="accelsim: cycles / (entries / 64 PEs)")
    axis.axhline(actual_us / theoretical_us, color="black", linestyle=":", label="paper: actual / theoretical time")
    axis.set_xlabel("coefficient of variation of nonzeros per output row")
    axis.set_ylabel("overhead over the work")
    axis.set_title("VGG-6 on EIE, 64 PEs: uneven rows (a what-if)")
    axis.legend(fontsize=8)
    files.save_figure(figure, "vgg6_uneven_rows.png")
    return rows
