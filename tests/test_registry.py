"""The dataflow contract (accelsim.dataflows.registry) and the catalog that finds dataflows (dataflows.catalog):
every built-in folder is imported and registered, every registered class honours the contract, every arch YAML
validates, and names, contracts and outside sources are checked with clear errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

import accelsim.dataflows
from accelsim.arch_configs import known_archs, load_arch
from accelsim.dataflows import catalog
from accelsim.dataflows.catalog import UnknownDataflowError, builtin_dataflows, get_dataflow, registered_dataflows
from accelsim.dataflows.registry import ContractError, Dataflow, register_dataflow
from accelsim.results import Metric

FOLDER = Path(accelsim.dataflows.__file__).parent
NOT_DATAFLOWS = {"shared", "__pycache__"}  # folders of helpers


def dataflow_folders() -> list[str]:
    return sorted(p.name for p in FOLDER.iterdir() if p.is_dir() and p.name not in NOT_DATAFLOWS)


def test_no_dataflow_module_is_left_flat_in_the_package():
    assert sorted(p.stem for p in FOLDER.glob("*.py")) == ["__init__", "catalog", "registry"]


def test_the_catalog_lists_every_folder():
    assert sorted({module.rsplit(".", 1)[1] for module in catalog.BUILTIN_DATAFLOWS.values()}) == dataflow_folders()


@pytest.mark.parametrize("name", sorted(catalog.BUILTIN_DATAFLOWS))
def test_every_listed_name_is_registered_by_its_folder(name):
    assert get_dataflow(name).__module__.startswith(catalog.BUILTIN_DATAFLOWS[name] + ".")


def _imports_numba(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [
            node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(name.split(".")[0] == "numba" for name in names):
            return True
    return False


@pytest.mark.parametrize("folder", [*dataflow_folders(), "shared"])
def test_numba_lives_in_jit_files_only(folder):
    for path in (FOLDER / folder).glob("*.py"):
        assert _imports_numba(path) == path.stem.endswith("jit"), f"{path}: numba functions go in a *jit.py file"


@pytest.mark.parametrize("name", sorted(builtin_dataflows()))
def test_registered_classes_honour_the_protocol(name):
    cls = get_dataflow(name)
    assert cls.name == name
    assert isinstance(cls(), Dataflow)
    assert cls.Config.model_config["extra"] == "forbid"
    assert cls.stall_causes and all(isinstance(text, str) and text for text in cls.stall_causes.values())
    assert all(isinstance(metric, Metric) for metric in cls.metrics.values())


@pytest.mark.parametrize("name", sorted(known_archs()))
def test_every_arch_yaml_validates(name):
    assert load_arch(name).dataflow.kind in registered_dataflows()


def test_unknown_name_suggests_the_closest_and_how_to_add_one():
    with pytest.raises(UnknownDataflowError, match=r"Did you mean 'systolic'.*python_file.*accelsim.dataflows"):
        get_dataflow("sistolic")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _complete(**overrides) -> type:
    body = {"Config": _Strict, "stall_causes": {"barrier": "waiting"}, "metrics": {},
            "check_arch": lambda self, arch: None, "simulate": lambda self, layer, arch, compute_output=False: None,
            "dense_config": lambda self, config: config}
    return type("Candidate", (), {**body, **overrides})


@pytest.mark.parametrize("overrides, message", [
    ({"simulate": None}, "lacks simulate"),
    ({"Config": type("Loose", (BaseModel,), {})}, "extra='forbid'"),
    ({"Config": dict}, "must be a pydantic BaseModel"),
    ({"stall_causes": ["barrier"]}, "stall_causes must map each stall cause to a description"),
    ({"stall_causes": {"barrier": ""}}, "stall_causes must map"),
    ({"metrics": {"x": "a description"}}, "must map each metric name to an accelsim.results.Metric"),
])
def test_the_decorator_refuses_what_breaks_the_contract(overrides, message):
    with pytest.raises(ContractError, match=message):
        register_dataflow("test-incomplete")(_complete(**overrides))
    assert "test-incomplete" not in registered_dataflows()


def test_the_decorator_returns_the_class_unchanged():
    cls = _complete()
    assert register_dataflow("test-complete")(cls) is cls and get_dataflow("test-complete") is cls


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(ContractError, match="registered twice"):
        register_dataflow("systolic")(_complete())


def test_a_dataflow_name_is_a_word():
    with pytest.raises(ContractError, match="letters, digits"):
        register_dataflow("has space")
