"""How well a device's kernel model predicts measured kernel times: per-kernel MAPE and worst case on held-out
rows, the sign of the sparse-vs-dense speedup, and the rank correlation of pruning schemes.

Rows are kernel-bench CSV rows (`accelsim.kernel_bench.bench.COLUMNS`). A row is held out from fitting when the CRC-32
of "model/layer" is divisible by 3: a fixed third of the layers, the same for every scheme, batch and kernel, so the fit
never sees any timing of a held-out layer. Dense kernels are timed once per layer (scheme "none"): a sparse row's
speedup is that layer's dense fp32 time over its own, measured and predicted alike."""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np
from scipy.stats import spearmanr

from accelsim.dataflows.library_kernels.kernel_models import predict
from accelsim.dataflows.library_kernels.params import DeviceKernels
from accelsim.kernel_bench.fit import features_from_row

SPEEDUP_MARGIN = 0.10
"""Speedups within 10% of 1 are ties: their sign is not scored (the issue's rule)."""


def is_held_out(row: Mapping) -> bool:
    return zlib.crc32(f"{row['model']}/{row['layer']}".encode()) % 3 == 0


def kernel_label(row: Mapping) -> str:
    block = f"{row['block']}" if row.get("block") else ""
    return f"{row['kernel']}{block}.{row['dtype']}"


def predicted_seconds(row: Mapping, kernels: DeviceKernels) -> float:
    return predict(features_from_row(row), row["kernel"], row["dtype"], kernels).total_s


def with_predictions(rows: Iterable[Mapping], kernels: DeviceKernels) -> list[dict]:
    """Each row with `predicted_s`, `measured_s` (its median, as a number) and `held_out`."""
    return [dict(row, predicted_s=predicted_seconds(row, kernels), measured_s=float(row["median_s"]),
                 held_out=is_held_out(row)) for row in rows]


def agreement(rows: Iterable[Mapping], kernels: DeviceKernels) -> dict:
    """The agreement figures of `rows` under `kernels` (see the module docstring), as a JSON-ready dict."""
    return agreement_of(with_predictions(rows, kernels))


def agreement_of(rows: list[dict]) -> dict:
    """The agreement figures of rows that already carry their predictions (`with_predictions`)."""
    return {"per_kernel": _per_kernel(rows), "speedup_sign": _speedup_sign(rows),
            "scheme_rank_correlation": _rank_correlation(rows)}


def _per_kernel(rows: list[dict]) -> dict:
    result = {}
    for label in sorted({kernel_label(row) for row in rows}):
        mine = [row for row in rows if kernel_label(row) == label]
        entry = {}
        for split, chosen in (("held_out", [r for r in mine if is_held_out(r)]),
                              ("training", [r for r in mine if not is_held_out(r)])):
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
    for split, chosen in (("all", pairs), ("held_out", [p for p in pairs if is_held_out(p)])):
        scored = [p for p in chosen if abs(p["measured_speedup"] - 1) > SPEEDUP_MARGIN]
        right = [p for p in scored if (p["measured_speedup"] > 1) == (p["predicted_speedup"] > 1)]
        result[split] = {"pairs": len(chosen), "scored": len(scored), "right": len(right),
                         "agreement": len(right) / len(scored) if scored else None}
    return result


def _rank_correlation(rows: list[dict]) -> dict:
    """Spearman correlation over schemes of the network's total time, per (model, batch, sparse kernel)."""
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
