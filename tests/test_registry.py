"""The dataflow registry: every module in accelsim/dataflows/ is imported and registered, and the contract holds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

import accelsim.dataflows
from accelsim.dataflows.registry import (
    Dataflow,
    UnknownDataflowError,
    get_dataflow,
    register_dataflow,
    registered_dataflows,
)

FOLDER = Path(accelsim.dataflows.__file__).parent
# modules that hold no dataflow
HELPERS = {"__init__", "registry", "gemm_view", "weight_sharing", "scnn_mapping", "scnn_cost", "gpu_features",
           "gpu_model"}


def dataflow_modules() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.py") if p.stem not in HELPERS)


def test_every_dataflow_module_is_imported_by_the_package():
    tree = ast.parse((FOLDER / "__init__.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert set(dataflow_modules()) <= imported


@pytest.mark.parametrize("module", dataflow_modules())
def test_every_dataflow_module_registers_a_class(module):
    source = (FOLDER / f"{module}.py").read_text()
    assert "@register_dataflow(" in source
    registered_modules = {cls.__module__ for cls in registered_dataflows().values()}
    assert f"accelsim.dataflows.{module}" in registered_modules


@pytest.mark.parametrize("name", sorted(registered_dataflows()))
def test_registered_classes_honour_the_protocol(name):
    cls = get_dataflow(name)
    assert cls.name == name
    assert isinstance(cls(), Dataflow)
    assert cls.Config.model_config["extra"] == "forbid"


def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownDataflowError, match="Did you mean 'systolic'"):
        get_dataflow("sistolic")


def test_decorator_returns_the_class_and_refuses_bad_contracts():
    class Loose(BaseModel):
        x: int = 1

    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")

    class NoSimulate:
        Config = Strict

    with pytest.raises(TypeError, match="lacks"):
        register_dataflow("test-no-simulate")(NoSimulate)

    class LooseConfig:
        Config = Loose

    with pytest.raises(TypeError, match="extra='forbid'"):
        register_dataflow("test-loose")(LooseConfig)
    assert "test-no-simulate" not in registered_dataflows()


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered twice"):
        register_dataflow("systolic")(type("Other", (), {"Config": get_dataflow("systolic").Config,
                                                           "check_arch": lambda s, a: None,
                                                           "simulate": lambda s, layer, a: None,
                                                           "dense_config": lambda s, c: c}))
