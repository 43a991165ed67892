"""Whole-process time of iterative pruning with fine-tuning on digits-cnn; target below 30 s on 2 cores.

    python benchmarks/bench_pruning.py            # 3 runs of each command after one warm-up (cached model)

Times `accelsim lower digits-cnn --prune global:0.9 --schedule iterative:5 --fine-tune-epochs 2` (5 rounds of
pruning, each followed by 2 epochs of fine-tuning with the masks enforced: 10 epochs, 210 optimiser steps) and,
in the same run, the one-shot `accelsim lower digits-cnn --prune global:0.9` (start-up, model load, pruning,
lowering), so the difference is what the schedule's training costs. Prints the medians, the accuracy the
iterative run reached, and whether the target is met.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = [sys.executable, "-m", "accelsim.cli", "lower", "digits-cnn", "--prune", "global:0.9"]
ITERATIVE = [*BASE, "--schedule", "iterative:5", "--fine-tune-epochs", "2"]
TARGET_S = 30.0
RUNS = 3


def wall(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> int:
    wall(BASE)  # warm-up: the trained digits-cnn is cached once
    iterative = [wall(ITERATIVE) for _ in range(RUNS)]
    oneshot = sorted(wall(BASE)[0] for _ in range(RUNS))
    times = sorted(seconds for seconds, _ in iterative)
    median, base = statistics.median(times), statistics.median(oneshot)
    accuracy = re.search(r"test accuracy after pruning: ([0-9.]+)", iterative[0][1]).group(1)
    print(f"iterative:5 x 2 epochs, whole process: median {median:.1f} s (min {times[0]:.1f}, max {times[-1]:.1f}, "
          f"{RUNS} runs); test accuracy after pruning {accuracy}")
    print(f"one-shot, same command without the schedule: median {base:.1f} s -> the schedule's 10 epochs of "
          f"fine-tuning cost {median - base:.1f} s ({(median - base) / 10:.2f} s an epoch)")
    met = median < TARGET_S
    print(f"target: below {TARGET_S:.0f} s: {'met' if met else 'NOT met'} ({median / TARGET_S:.2f} of the target)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
