"""The dataflow contract, and the decorator that registers a dataflow under the name an arch YAML gives it.

A dataflow is one accelerator's mapping and timing model. It lives in one folder (`accelsim/dataflows/<name>/`, or
one module while it is small), or outside accelsim: in a Python file an arch YAML names
(`dataflow: {kind: mine, python_file: mine.py}`) or in an installed package that declares an entry point in the
group `accelsim.dataflows`. docs/dataflows.md walks through a complete example.

What a dataflow is: a class decorated `@register_dataflow("name")` (the decorator checks the contract and returns
the class unchanged) with

- `Config`: a pydantic model of its YAML parameters (`dataflow: {kind: name, ...}`), `extra="forbid"`, a docstring
  after each field;
- `stall_causes`: {cause: what it means}, every reason a cycle of this dataflow did less than full work. Reuse
  the names of `accelsim.results.COMMON_STALL_CAUSES` where they mean the same thing (tables compare them across
  dataflows), declare your own otherwise;
- `metrics`: {name: `Metric`}, the dataflow's own figures beside cycles (EIE's load-balance efficiency);
- `check_arch(arch)`: raise ValueError naming what an arch lacks (a memory level, an array shape);
- `dense_config(config)`: the Config of the same machine with sparsity support off (the dense reference when an
  arch names no `dense_twin`);
- `simulate(layer, arch, *, compute_output=False) -> LayerResult`.

What `simulate` receives: a `Layer` (accelsim.workload: op, dims, the real `input` and `weight` arrays whose
zeros are the sparsity) and an `Arch` whose `arch.dataflow.config` is an instance of its own `Config`. What it
returns: a `LayerResult` (accelsim.results) with the cycles, the stall cycles by declared cause (included in the
cycles), MACs issued and effectual, the multipliers, the `ActionCounts` of every component it used (each a memory
level or component of the arch, or "mac"), its metrics and notes, and with `compute_output` the layer's output
computed through its own schedule (tests compare it with `accelsim.reference.reference_output`).

What it may not do: price energy (it counts actions; `accelsim.energy` prices them from tables), import torch (a
workload is numpy), keep state between calls (a sweep runs layers in any order, in several processes), or reduce
a layer to one average density (walk the real nonzeros). Hot loops go in numba functions in a file of their own
(`jit.py` in the dataflow's folder), tested against plain numpy, their `.py_func` and `NUMBA_DISABLE_JIT=1`.

This module is below every dataflow and knows none of them: `accelsim.dataflows.catalog` finds them (built-ins,
entry points, python files) and looks names up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from accelsim.results import Metric

if TYPE_CHECKING:
    from accelsim.arch import Arch
    from accelsim.results import LayerResult
    from accelsim.workload import Layer

_REGISTRY: dict[str, type] = {}
_METHODS = ("check_arch", "simulate", "dense_config")


@runtime_checkable
class Dataflow(Protocol):
    """One accelerator's mapping and timing model (see the module docstring for the whole contract)."""

    name: ClassVar[str]
    Config: ClassVar[type[BaseModel]]
    stall_causes: ClassVar[Mapping[str, str]]
    metrics: ClassVar[Mapping[str, Metric]]

    def check_arch(self, arch: Arch) -> None: ...

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult: ...

    def dense_config(self, config: BaseModel) -> BaseModel: ...


class ContractError(TypeError):
    """A class registered as a dataflow that does not follow the contract; the message says what is missing."""


def register_dataflow(name: str):
    """Class decorator: register a dataflow under `name` (the YAML's `dataflow.kind`) after checking its contract."""
    if not (isinstance(name, str) and name and name.replace("_", "").replace("-", "").isalnum()):
        raise ContractError(f"a dataflow name must be letters, digits, '-' and '_', got {name!r}")

    def decorate(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ContractError(f"dataflow name {name!r} is registered twice: {_describe(_REGISTRY[name])} and "
                                f"{_describe(cls)}")
        problems = contract_problems(cls)
        if problems:
            raise ContractError(f"dataflow {name!r} ({_describe(cls)}) does not follow the contract of "
                                f"accelsim.dataflows.registry: " + "; ".join(problems))
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def contract_problems(cls: type) -> list[str]:
    """What `cls` lacks to be a dataflow (empty when it follows the contract)."""
    problems = []
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, BaseModel)):
        problems.append(f"{cls.__name__}.Config must be a pydantic BaseModel")
    elif config.model_config.get("extra") != "forbid":
        problems.append(f"{cls.__name__}.Config must forbid unknown keys (extra='forbid')")
    missing = [method for method in _METHODS if not callable(getattr(cls, method, None))]
    if missing:
        problems.append(f"{cls.__name__} lacks {', '.join(missing)}")
    causes = getattr(cls, "stall_causes", None)
    if not (isinstance(causes, Mapping) and all(isinstance(k, str) and isinstance(v, str) and v
                                                for k, v in causes.items())):
        problems.append(f"{cls.__name__}.stall_causes must map each stall cause to a description, e.g. "
                        f"{{'memory_bandwidth': 'waiting for DRAM'}}")
    metrics = getattr(cls, "metrics", None)
    if not (isinstance(metrics, Mapping) and all(isinstance(k, str) and isinstance(v, Metric)
                                                 for k, v in metrics.items())):
        problems.append(f"{cls.__name__}.metrics must map each metric name to an accelsim.results.Metric "
                        f"({{}} when it reports none)")
    return problems


def check_result(dataflow: type, result: LayerResult) -> None:
    """Raise when a dataflow's result names a stall cause or metric the dataflow did not declare."""
    for kind, reported, declared in (("stall causes", result.stall_cycles, dataflow.stall_causes),
                                     ("metrics", result.metrics, dataflow.metrics)):
        unknown = sorted(set(reported) - set(declared))
        if unknown:
            raise ContractError(f"dataflow {dataflow.name!r} reported {kind} {unknown} for layer {result.name!r} "
                                f"that its {'stall_causes' if kind == 'stall causes' else 'metrics'} do not "
                                f"declare (declared: {', '.join(declared) or 'none'})")


def registered() -> dict[str, type]:
    """The dataflows registered so far, by name (use `accelsim.dataflows.catalog` to find them all first)."""
    return dict(_REGISTRY)


def _describe(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
