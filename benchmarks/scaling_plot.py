"""The scaling plot of benchmarks/bench_scnn.py --scaling: SCNN's seconds per layer against the products it issues
(every layer of every sparsity, with the fitted line), and per workload the total seconds of SCNN, DCNN, the
systolic array and the dense numpy reference against the effectual MACs."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def plot_scaling(rows: list, fit: tuple[float, float, float, float], twins: list[str], path: str) -> None:
    a, b, r2, r2_dense = fit
    figure, (per_layer, totals) = plt.subplots(1, 2, figsize=(12, 4.8))
    for label, best, products, *_ in rows:
        per_layer.scatter(products / 1e6, best * 1e3, s=12, label=label)
    x = np.linspace(0, max(row[2].max() for row in rows), 50)
    per_layer.plot(x / 1e6, (a + b * x) * 1e3, color="black", linewidth=1,
                   label=f"{a * 1e3:.2f} ms + {b * 1e9:.1f} ns x products (R$^2$ {r2:.2f}; dense MACs: {r2_dense:.2f})")
    per_layer.set_xlabel("products issued by SCNN in the layer (M)")
    per_layer.set_ylabel("SCNN CPU seconds per layer (ms)")
    per_layer.set_title("SCNN: cost per layer follows the products issued")
    per_layer.legend(fontsize=7)
    effectual = np.array([row[4].sum() for row in rows]) / 1e6
    totals.plot(effectual, [row[1].sum() for row in rows], "o-", label="SCNN")
    for name in twins:
        style = ":" if name == "numpy reference" else "s--"
        totals.plot(effectual, [row[5][name] for row in rows], style, label=name)
    for (label, *_), x_value, y_value in zip(rows, effectual, [row[1].sum() for row in rows], strict=True):
        totals.annotate(label, (x_value, y_value), fontsize=7, textcoords="offset points", xytext=(4, 4))
    totals.set_xlabel("effectual MACs of the workload (M)")
    totals.set_ylabel("seconds for the whole workload (numpy: wall)")
    totals.set_title("whole network, best of the repeats")
    totals.legend(fontsize=8)
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
