"""Timing one kernel call well: warm-up, many repeats, the median, rotating inputs, and the device synchronised.

On CUDA each call is bracketed by CUDA events and the device is synchronised once the repeats are queued
(events time the GPU's work, not Python's launch loop). On the CPU each call is bracketed by `perf_counter`.
Inputs rotate through copies at different addresses, enough of them that together they exceed `rotate_bytes`
(about twice the last-level cache), so a call does not find the previous call's operands in cache.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TimingPolicy:
    warmup_calls: int = 3
    """Calls before timing (JIT of library kernels, allocator warm-up, cuSPARSE analysis)..."""
    warmup_s: float = 0.5
    """...or fewer once this much was spent (never fewer than one): a second-long call is warm after one."""
    min_repeats: int = 7
    max_repeats: int = 200
    min_total_s: float = 0.3
    """Keep repeating until the timed calls add up to this much (and min_repeats are done)."""
    max_total_s: float = 3.0
    """Stop once this much was spent, even before min_repeats (never before 3 repeats): a huge GEMM's median of
    3 is already steady, and a sweep should not stall on it."""
    rotate_bytes: int = 128 * 2**20
    max_copies: int = 16


@dataclass(frozen=True)
class Timing:
    median_s: float
    min_s: float
    q1_s: float
    q3_s: float
    repeats: int
    copies: int
    """Input copies rotated through."""

    def as_dict(self) -> dict:
        return {"median_s": self.median_s, "min_s": self.min_s, "q1_s": self.q1_s, "q3_s": self.q3_s,
                "repeats": self.repeats, "input_copies": self.copies}


def input_copies(inputs: Sequence[torch.Tensor], policy: TimingPolicy) -> list[Sequence[torch.Tensor]]:
    """`inputs` plus clones, as many as needed for their bytes to exceed policy.rotate_bytes."""
    size_bytes = max(1, sum(t.numel() * t.element_size() for t in inputs))
    count = min(policy.max_copies, max(1, -(-policy.rotate_bytes // size_bytes)))
    return [inputs] + [[t.clone() for t in inputs] for _ in range(count - 1)]


def time_call(call: Callable[[Sequence[torch.Tensor]], object], inputs: Sequence[torch.Tensor],
              device: torch.device, policy: TimingPolicy = TimingPolicy()) -> Timing:
    """Median time of `call(inputs)` under `policy` (see the module docstring)."""
    copies = input_copies(inputs, policy)
    started = time.perf_counter()
    for index in range(policy.warmup_calls):
        call(copies[index % len(copies)])
        _synchronize(device)
        if time.perf_counter() - started >= policy.warmup_s:
            break
    times = _cuda_times(call, copies, device, policy) if device.type == "cuda" else _cpu_times(call, copies, policy)
    quartiles = statistics.quantiles(times, n=4, method="inclusive") if len(times) > 1 else [times[0]] * 3
    return Timing(median_s=statistics.median(times), min_s=min(times), q1_s=quartiles[0], q3_s=quartiles[2],
                  repeats=len(times), copies=len(copies))


def _enough(times: list[float], policy: TimingPolicy) -> bool:
    total = sum(times)
    if len(times) >= policy.max_repeats or (len(times) >= 3 and total >= policy.max_total_s):
        return True
    return len(times) >= policy.min_repeats and total >= policy.min_total_s


def _cpu_times(call, copies, policy: TimingPolicy) -> list[float]:
    times: list[float] = []
    while not _enough(times, policy):
        operands = copies[len(times) % len(copies)]
        start = time.perf_counter()
        call(operands)
        times.append(time.perf_counter() - start)
    return times


def _cuda_times(call, copies, device, policy: TimingPolicy) -> list[float]:
    times: list[float] = []
    while not _enough(times, policy):
        # queue a batch of calls, each between its own events, then read them after one synchronisation
        batch = max(1, min(policy.min_repeats, policy.max_repeats - len(times)))
        events = []
        for index in range(batch):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            call(copies[(len(times) + index) % len(copies)])
            end.record()
            events.append((start, end))
        torch.cuda.synchronize(device)
        times.extend(start.elapsed_time(end) / 1e3 for start, end in events)
    return times


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
