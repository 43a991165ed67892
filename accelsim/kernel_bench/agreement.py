"""How well a device's kernel model predicts measured kernel times: per-kernel MAPE and worst case on held-out rows,
the sign of the sparse-vs-dense speedup, and the rank correlation of pruning schemes.

Rows are kernel-bench CSV rows (`accelsim.kernel_bench.bench.COLUMNS`). Which rows are held out from the fit is a
`Split` (`accelsim.kernel_bench.splits`): by GEMM shape (the default, what the committed arch is fitted on), or
from one model to another. Dense kernels are timed once per layer (scheme "none"): a sparse row's speedup is that
layer's dense fp32 time over its own, measured and predicted alike; a held-out sparse row's dense row is held out
too under every split (both follow the layer's shape and model)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np
from scipy.stats import spearmanr

from accelsim.dataflows.library_kernels.kernel_models import predict
from accelsim.dataflows.library_kernels.params import DeviceKernels
from accelsim.kernel_bench.fit import features_from_row
from accelsim.kernel_bench.splits import SHAPE_SPLIT, Split

SPEEDUP_MARGIN = 0.10
"""Speedups within 10% of 1 are ties: their sign is not scored (the issue's rule)."""


def kernel_label(row: Mapping) -> str:
    block = f"{row['block']}" if row.get("block") else ""
    return f"{row['kernel']}{block}.{row['dtype']}"


def predicted_seconds(row: Mapping, kernels: DeviceKernels) -> float:
    return predict(features_from_row(row), row["kernel"], row["dtype"], kernels).total_s


def with_predictions(rows: Iterable[Mapping], kernels: DeviceKernels, split: Split = SHAPE_SPLIT) -> list[dict]:
    """Each row with `predicted_s`, `measured_s` (its median, as a number) and `held_out` (under `split`)."""
    return [dict(row, predicted_s=predicted_seconds(row, kernels), measured_s=float(row["median_s"]),
                 held_out=split.held_out(row)) for row in rows]


def agreement(rows: Iterable[Mapping], kernels: DeviceKernels, split: Split = SHAPE_SPLIT) -> dict:
    """The agreement figures of `rows` under `kernels` (see the module docstring), as a JSON-ready dict."""
    return agreement_of(with_predictions(rows, kernels, split))


def agreement_of(rows: list[dict]) -> dict:
    """The agreement figures of rows that already carry their predictions and `held_out` (`with_predictions`)."""
    return {"per_kernel": _per_kernel(rows), "speedup_sign": _speedup_sign(rows),
            "scheme_rank_correlation": {"held_out": _rank_correlation([r for r in rows if r["held_out"]]),
                                        "all": _rank_correlation(rows)}}


def _per_kernel(rows: list[dict]) -> dict:
    result = {}
    for label in sorted({kernel_label(row) for row in rows}):
        mine = [row for row in rows if kernel_label(row) == label]
        entry = {}
        for split, chosen in (("held_out", [r for r in mine if r["held_out"]]),
                              ("training", [r for r in mine if not r["held_out"]])):
            errors = np.array([abs(r["predicted_s"] / r["measured_s"] - 1) for r in chosen])
            if not len(errors):
                continue
            worst = chosen[int(np.argmax(errors))]
            entry[split] = {"rows": len(chosen), "mape": float(errors.mean()), "median_ape": float(np.median(errors)),
                            "worst_ape": float(errors.max()),
                            "worst_row": f"{worst['model']} b{worst['batch']} {worst['scheme']} {worst['layer']}",
                            "within_25_percent": float(np.mean(errors <= 0.25))}
        result[label] = entry
    return result


def speedup_pairs(rows: list[dict]) -> list[dict]:
    """Each sparse row with its layer's dense fp32 row: measured and predicted speedups."""
    dense = {(r["model"], str(r["batch"]), r["layer"]): r for r in rows
             if r["kernel"] == "dense" and r["dtype"] == "fp32"}
    pairs = []
    for row in rows:
        reference = dense.get((row["model"], str(row["batch"]), row["layer"]))
        if row["kernel"] == "dense" or reference is None:
            continue
        pairs.append({**row, "measured_speedup": reference["measured_s"] / row["measured_s"],
                      "predicted_speedup": reference["predicted_s"] / row["predicted_s"]})
    return pairs


def _speedup_sign(rows: list[dict]) -> dict:
    result = {}
    pairs = speedup_pairs(rows)
    for split, chosen in (("all", pairs), ("held_out", [p for p in pairs if p["held_out"]])):
        scored = [p for p in chosen if abs(p["measured_speedup"] - 1) > SPEEDUP_MARGIN]
        right = [p for p in scored if (p["measured_speedup"] > 1) == (p["predicted_speedup"] > 1)]
        result[split] = {"pairs": len(chosen), "scored": len(scored), "right": len(right),
                         "agreement": len(right) / len(scored) if scored else None}
    return result


def _rank_correlation(rows: list[dict]) -> dict:
    """Spearman correlation over schemes of the total time of `rows`, per (model, batch, sparse kernel) with at
    least 3 schemes."""
    totals: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for row in rows:
        if row["kernel"] != "dense":
            cell = totals[(row["model"], str(row["batch"]), kernel_label(row))][row["scheme"]]
            cell[0] += row["measured_s"]
            cell[1] += row["predicted_s"]
    result = {}
    for (model, batch, label), schemes in sorted(totals.items()):
        if len(schemes) < 3:
            continue
        measured, predicted = zip(*schemes.values(), strict=True)
        result[f"{model} b{batch} {label}"] = {"schemes": len(schemes),
                                                "spearman": float(spearmanr(measured, predicted).statistic)}
    return result
