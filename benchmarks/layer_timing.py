"""Shared by the dataflow benchmarks: time a dataflow over a list of layers, fresh `Layer` objects each repeat (so
that no per-layer memo, such as the effectual-MAC count, turns a repeat into a lookup)."""

from __future__ import annotations

import statistics
import time

from accelsim.workload import Layer


def fresh(layer: Layer) -> Layer:
    return Layer(name=layer.name, op=layer.op, input=layer.input, weight=layer.weight, stride=layer.stride,
                 padding=layer.padding, dilation=layer.dilation, groups=layer.groups)


def time_layers(dataflow, layers, arch, repeats: int) -> tuple[float, float, list]:
    """(best seconds, median seconds, the last repeat's results) of simulating every layer once per repeat."""
    times, results = [], []
    for _ in range(repeats):
        batch = [fresh(layer) for layer in layers]
        start = time.perf_counter()
        results = [dataflow.simulate(layer, arch) for layer in batch]
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), results
