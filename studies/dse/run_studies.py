"""Design-space studies run with `accelsim sweep` (docs/dse.md shows the results).

    python studies/dse/run_studies.py                  # all three; ~20-40 minutes on 2 cores, lowering included
    python studies/dse/run_studies.py eie digits       # some of them

1. eie: activation FIFO depth x PE count x pruning scheme on EIE (studies/dse/eie.yaml).
2. systolic: array shape x stationary operand x N:M mode on ResNet-18 dense and 2:4 (studies/dse/systolic.yaml).
3. digits: test accuracy against speedup across 25 pruning entries (six fine-tuned) and five archs
   (studies/dse/digits.yaml).

Each study is a sweep into studies/dse/results/<study>/ (Parquet rows, its spec, environment and default fronts in
_sweep/), resumed if it was stopped; the script then writes the figures and tables below from those rows alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from accelsim.dse import read_results, run_sweep
from accelsim.dse.fronts import write_front
from accelsim.dse.pareto import front_of
from accelsim.report.study_files import StudyFiles

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "studies" / "dse"
RESULTS = HERE / "results"
FILES = StudyFiles(RESULTS, ROOT)


def sweep(name: str):
    """The study's rows, computing what its folder lacks."""
    from accelsim.cli.common import progress_bar

    with progress_bar() as progress:
        summary = run_sweep(HERE / f"{name}.yaml", RESULTS / name, progress=progress)
    print(f"{name}: {summary.points} points, {summary.computed} computed ({summary.failed} failed), "
          f"{summary.skipped} already there; {summary.wall_s:.0f} s")
    frame = read_results(RESULTS / name)
    failed = frame[frame["status"] != "ok"]
    if len(failed):
        raise SystemExit(f"{name}: {len(failed)} points failed, e.g. {failed['error'].iloc[0]}")
    return frame


def eie_study() -> None:
    frame = sweep("eie")
    frame = frame.assign(fifo=frame["set.dataflow.fifo_depth"], pes=frame["set.pe_array.cols"],
                         time_us=frame["latency_s"] * 1e6,
                         workload=[("nine layers (Table III densities)" if model == "eie-benchmark" else
                                    f"AlexNet fc6-8, {prune}") for model, prune in zip(frame["model"], frame["prune"],
                                                                                       strict=True)])
    table = frame[["workload", "pes", "fifo", "time_us", "speedup", "stall_share_load_imbalance",
                   "weight_density", "energy_pj"]].sort_values(["workload", "pes", "fifo"])
    FILES.write_csv("eie_fifo_pes_scheme.csv", table.round(5).to_dict("records"))

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    nine = frame[frame["model"] == "eie-benchmark"]
    for pes, group in nine.groupby("pes"):
        group = group.sort_values("fifo")
        axes[0].plot(group["fifo"], group["time_us"] / group["time_us"].min(), marker="o", label=f"{pes} PEs")
    axes[0].set_title("nine benchmark layers: time against FIFO depth")
    axes[0].set_ylabel("time / time at the deepest FIFO")
    alexnet = frame[(frame["model"] == "alexnet") & (frame["pes"] == 64)]
    for prune, group in alexnet.groupby("prune"):
        group = group.sort_values("fifo")
        axes[1].plot(group["fifo"], group["time_us"], marker="o", label=prune)
    axes[1].set_title("AlexNet fc6-8 at 64 PEs, by pruning scheme")
    axes[1].set_ylabel("time (µs)")
    for axis in axes:
        axis.set_xscale("log", base=2)
        axis.set_xlabel("activation FIFO depth")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    FILES.save_figure(figure, "eie_fifo_depth.png")

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    at_fifo = frame[frame["fifo"] == 8]
    for workload, group in at_fifo.groupby("workload"):
        group = group.sort_values("pes")
        speedup = group["time_us"].iloc[0] / group["time_us"]
        axes[0].plot(group["pes"], 100 * speedup / (group["pes"] / group["pes"].iloc[0]), marker="o", label=workload)
        axes[1].plot(group["pes"], 100 * group["stall_share_load_imbalance"], marker="o", label=workload)
    axes[0].set_ylabel("parallel efficiency over 4 PEs (%)")
    axes[1].set_ylabel("cycles lost to load imbalance (%)")
    for axis, title in zip(axes, ("speedup over 4 PEs / (PEs / 4), FIFO depth 8", "load imbalance, FIFO depth 8"),
                           strict=True):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("PEs")
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7)
    FILES.save_figure(figure, "eie_pes_scheme.png")


def systolic_study() -> None:
    frame = sweep("systolic")
    nm = frame["set.dataflow.nm"].fillna("dense")
    frame = frame.assign(shape=[f"{r}x{c}" for r, c in zip(frame["set.pe_array.rows"], frame["set.pe_array.cols"],
                                                            strict=True)],
                         design=[f"{s}, array {m}, model {p}" for s, m, p in
                                 zip(frame["set.dataflow.stationary"], nm, frame["prune"], strict=True)])
    table = frame[["prune", "set.dataflow.stationary", "set.dataflow.nm", "shape",
                   "set.memory.dram.bandwidth_bytes_per_cycle", "area_multipliers", "cycles",
                   "latency_s", "energy_pj", "speedup", "utilization", "stall_share_memory_bandwidth"]]
    FILES.write_csv("systolic_resnet18.csv", table.round(9).to_dict("records"))
    # The figures keep the matched pairs: a dense model on a dense array, a 2:4 model on a 2:4 array (the crossed
    # pairs run dense, and are in the CSV).
    matched = frame[(frame["prune"] == "nm:2:4") == (nm == "2:4")]
    matched = matched.assign(design=[f"{s}{' + 2:4' if p == 'nm:2:4' else ''}" for s, p in
                                     zip(matched["set.dataflow.stationary"], matched["prune"], strict=True)])
    bandwidth = "set.memory.dram.bandwidth_bytes_per_cycle"
    fronts = [(matched[matched[bandwidth] == value], ("area_multipliers", "min"), ("latency_s", "min"),
               f"_dram{value}", f", DRAM {value} B/cycle") for value in sorted(matched[bandwidth].unique())]
    fronts.append((matched, ("latency_s", "min"), ("energy_pj", "min"), "", ""))
    for rows, x, y, suffix, what in fronts:
        name = f"systolic_front_{y[0]}_{x[0]}{suffix}"
        front = write_front(rows, x, y, "design", RESULTS / f"{name}.png",
                            title=f"ResNet-18{what}: {y[0]} vs {x[0]}")
        FILES.write_csv(f"{name}.csv", front[["design", "shape", bandwidth, x[0], y[0], "speedup",
                                               "stall_share_memory_bandwidth", "point_id"]].to_dict("records"))
        print(f"wrote {RESULTS / f'{name}.png'}")


def digits_study() -> None:
    frame = sweep("digits")
    x, y = ("speedup", "max"), ("accuracy", "max")
    front = write_front(frame, x, y, "arch", RESULTS / "digits_accuracy_speedup.png",
                        title="digits-cnn: test accuracy after pruning vs speedup over each arch's dense reference")
    print(f"wrote {RESULTS / 'digits_accuracy_speedup.png'}")
    columns = ["arch", "prune", "speedup", "accuracy", "energy_ratio", "weight_density", "point_id"]
    FILES.write_csv("digits_accuracy_speedup_front.csv", front[columns].round(4).to_dict("records"))
    per_arch = [front_of(group, [x, y]).assign(arch=arch) for arch, group in frame.groupby("arch")]
    rows = [row for group in per_arch for row in group[columns].round(4).to_dict("records")]
    FILES.write_csv("digits_accuracy_speedup_front_per_arch.csv", rows)
    FILES.write_csv("digits_all.csv", frame[columns].sort_values(["arch", "prune"]).round(4).to_dict("records"))


STUDIES = {"eie": eie_study, "systolic": systolic_study, "digits": digits_study}


def main() -> None:
    names = sys.argv[1:] or list(STUDIES)
    unknown = [name for name in names if name not in STUDIES]
    if unknown:
        raise SystemExit(f"unknown study {unknown[0]!r}; studies: {', '.join(STUDIES)}")
    for name in names:
        STUDIES[name]()
    FILES.write_provenance("python studies/dse/run_studies.py " + " ".join(names),
                           workloads="see each sweep's _sweep/spec.yaml and _sweep/environment.json")


if __name__ == "__main__":
    main()
