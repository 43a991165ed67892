"""Whole-network runs: every layer of a workload through an arch's dataflow, priced, next to the dense reference."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from accelsim.arch import Arch, DataflowSpec
from accelsim.arch_configs import resolve_dense_twin
from accelsim.dataflows.catalog import get_dataflow
from accelsim.dataflows.registry import check_result
from accelsim.energy import EnergyModel
from accelsim.network_result import LayerRow, NetworkResult
from accelsim.results import LayerResult
from accelsim.workload import Workload


def dense_reference_arch(arch: Arch) -> Arch:
    """The arch's dense twin when it names one, else the same arch with its dataflow's sparsity support off."""
    twin = resolve_dense_twin(arch)
    if twin is not None:
        return twin
    dataflow = get_dataflow(arch.dataflow.kind)()
    dense_config = dataflow.dense_config(arch.dataflow.config)
    if dense_config == arch.dataflow.config:
        return arch
    spec = DataflowSpec(kind=arch.dataflow.kind, config=dense_config)
    return arch.model_copy(update={"name": f"{arch.name} (sparsity off)", "dataflow": spec})


def simulate(workload: Workload, arch: Arch, *, dense_reference: bool = True, compute_output: bool = False,
             on_layer: Callable[[LayerRow], None] | None = None) -> NetworkResult:
    """Simulate every layer in order. `on_layer` sees each finished row (progress bars, saving partial results)."""
    if not workload.layers:
        raise ValueError("the workload has no layers to simulate")
    dataflow_class = get_dataflow(arch.dataflow.kind)
    dataflow = dataflow_class()
    energy = EnergyModel.for_arch(arch)
    dense_arch = dense_reference_arch(arch) if dense_reference else None
    notes = list(energy.notes)
    if dense_arch is not None and arch.dense_twin is not None:
        notes.append(f"dense reference: the arch's dense twin {dense_arch.name} ({dense_arch.source}), without this "
                     f"run's --set overrides")
    same_as_dense = dense_arch is arch
    if dense_arch is not None and not same_as_dense:
        dense_dataflow = get_dataflow(dense_arch.dataflow.kind)()
        dense_energy = EnergyModel.for_arch(dense_arch)
    rows = []
    previous = previous_dense = None
    for layer in workload.layers:
        result = dataflow.simulate(layer, arch, compute_output=compute_output)
        check_result(dataflow_class, result)
        result = hide_first_fetch(result, previous)
        previous = result
        latency_s = result.cycles / arch.clock_hz
        energy_pj = energy.breakdown_pj(result.actions, latency_s)
        dense = {}
        if same_as_dense:
            dense = {"dense_cycles": result.cycles, "dense_latency_s": latency_s,
                     "dense_energy_pj": sum(energy_pj.values())}
        elif dense_arch is not None:
            reference = hide_first_fetch(dense_dataflow.simulate(layer, dense_arch), previous_dense)
            previous_dense = reference
            reference_latency_s = reference.cycles / dense_arch.clock_hz
            dense = {"dense_cycles": reference.cycles, "dense_latency_s": reference_latency_s,
                     "dense_energy_pj": sum(dense_energy.breakdown_pj(reference.actions, reference_latency_s).values())}
        row = LayerRow(result=result, latency_s=latency_s, energy_pj=energy_pj, **dense)
        rows.append(row)
        if on_layer is not None:
            on_layer(row)
    provenance = dict(workload.provenance)
    return NetworkResult(arch=arch.name, workload=_workload_name(provenance), rows=tuple(rows),
                         inferences=_inferences(provenance), dense_arch=None if dense_arch is None else dense_arch.name,
                         provenance=provenance, notes=tuple(notes), stall_causes=dict(dataflow_class.stall_causes),
                         metrics=dict(dataflow_class.metrics))


def hide_first_fetch(result: LayerResult, previous: LayerResult | None) -> LayerResult:
    """`result` with the weight part of its first fetch hidden under the previous layer's prefetch window (its last
    fold, while its own DRAM traffic is done): layers run back to back, and the next layer's weights can stream into
    the idle buffer halves then. Its inputs cannot: they are the previous layer's outputs."""
    if previous is None or not result.hideable_first_fetch_cycles or not previous.prefetch_window_cycles:
        return result
    hidden = min(result.hideable_first_fetch_cycles, previous.prefetch_window_cycles)
    stalls = dict(result.stall_cycles)
    stalls["first_fetch"] -= hidden
    note = "the weights of its first fetch stream in during the previous layer's last fold (not counted again)"
    return dataclasses.replace(result, cycles=result.cycles - hidden, stall_cycles=stalls,
                               hideable_first_fetch_cycles=result.hideable_first_fetch_cycles - hidden,
                               notes=(*result.notes, note))


def _workload_name(provenance: dict) -> str:
    model = str(provenance.get("model", "workload"))
    scheme = provenance.get("scheme")
    return f"{model} ({scheme})" if scheme and scheme != "none" else model


def _inferences(provenance: dict) -> int:
    """The workload's batch: an explicit 'batch', else the first dimension of the recorded input shape."""
    if isinstance(provenance.get("batch"), int):
        return max(1, provenance["batch"])
    shape = provenance.get("input_shape")
    return max(1, int(shape[0])) if isinstance(shape, list | tuple) and shape else 1
