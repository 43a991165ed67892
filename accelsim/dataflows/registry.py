"""The `Dataflow` contract and the registry that maps a YAML `dataflow.kind` to its class.

A dataflow is one module in this folder holding one class, decorated `@register_dataflow("name")`; the decorator
checks the contract and returns the class unchanged. `accelsim/dataflows/__init__.py` imports every module
explicitly, and a test checks that no file in the folder is left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from accelsim.names import unknown

if TYPE_CHECKING:
    from accelsim.arch import Arch
    from accelsim.results import LayerResult
    from accelsim.workload import Layer

_REGISTRY: dict[str, type] = {}


class UnknownDataflowError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; ours is a sentence
        return str(self.args[0])


@runtime_checkable
class Dataflow(Protocol):
    """One accelerator's mapping and timing model.

    `Config` holds the dataflow's own YAML parameters (pydantic, extra="forbid"). `check_arch` raises ValueError
    when an arch lacks what the dataflow needs (a memory level, an array shape). `simulate` walks one layer's real
    operands and returns cycles, stalls and action counts; with `compute_output` it also computes the layer's
    output through its own schedule. `dense_config` returns the Config of the same machine with sparsity support
    off: the dense reference when an arch names no dense twin.
    """

    name: ClassVar[str]
    Config: ClassVar[type[BaseModel]]

    def check_arch(self, arch: Arch) -> None: ...

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult: ...

    def dense_config(self, config: BaseModel) -> BaseModel: ...


def register_dataflow(name: str):
    """Class decorator: register a dataflow under `name` (the YAML's `dataflow.kind`)."""

    def decorate(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"dataflow name {name!r} is registered twice: {_REGISTRY[name]!r} and {cls!r}")
        config = getattr(cls, "Config", None)
        if not (isinstance(config, type) and issubclass(config, BaseModel)):
            raise TypeError(f"dataflow {name!r}: {cls.__name__}.Config must be a pydantic BaseModel")
        if config.model_config.get("extra") != "forbid":
            raise TypeError(f"dataflow {name!r}: {cls.__name__}.Config must forbid unknown keys (extra='forbid')")
        methods = ("check_arch", "simulate", "dense_config")
        missing = [method for method in methods if not callable(getattr(cls, method, None))]
        if missing:
            raise TypeError(f"dataflow {name!r}: {cls.__name__} lacks {', '.join(missing)}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def registered_dataflows() -> dict[str, type]:
    """Every registered dataflow class by name (importing the package registers them all)."""
    import accelsim.dataflows  # noqa: F401  (its __init__ imports every dataflow module)

    return dict(sorted(_REGISTRY.items()))


def get_dataflow(name: str) -> type:
    """The class registered as `name`; an unknown name raises with the closest match and all known names."""
    dataflows = registered_dataflows()
    if name not in dataflows:
        raise UnknownDataflowError(unknown("dataflow kind", name, dataflows))
    return dataflows[name]
