"""Every dataflow accelsim can find, by name: the built-in folders (listed here explicitly, one line each, and
imported when their name is first asked for, so that a run loads only the dataflow it uses), the entry points of
installed packages (group `accelsim.dataflows`), and Python files named by arch YAMLs
(`dataflow: {kind: mine, python_file: mine.py}`). The contract they follow is in `accelsim.dataflows.registry`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path

from accelsim.dataflows.registry import ContractError, contract_problems, register_dataflow, registered
from accelsim.names import unknown

BUILTIN_DATAFLOWS = {
    "dcnn": "accelsim.dataflows.dcnn",
    "eie": "accelsim.dataflows.eie",
    "eyeriss_v1": "accelsim.dataflows.eyeriss",
    "eyeriss_v2": "accelsim.dataflows.eyeriss",
    "library_kernels": "accelsim.dataflows.library_kernels",
    "scnn": "accelsim.dataflows.scnn",
    "sparten": "accelsim.dataflows.sparten",
    "systolic": "accelsim.dataflows.systolic",
}
"""Each built-in dataflow's name and the folder that registers it (tests/test_registry.py checks every folder of
accelsim/dataflows/ is here and registers these names)."""
ENTRY_POINT_GROUP = "accelsim.dataflows"

_LOADED_FILES: dict[Path, set[str]] = {}


class UnknownDataflowError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; ours is a sentence
        return str(self.args[0])


class DataflowSourceError(ValueError):
    """A dataflow's Python file or entry point that cannot be loaded or does not define what it promises."""


def builtin_dataflows() -> dict[str, type]:
    """The dataflows defined inside accelsim, by name (importing every built-in folder)."""
    for module in sorted(set(BUILTIN_DATAFLOWS.values())):
        importlib.import_module(module)
    return {name: registered()[name] for name in sorted(BUILTIN_DATAFLOWS)}


def registered_dataflows() -> dict[str, type]:
    """Every dataflow by name: the built-ins, every installed entry point, and the files loaded so far."""
    builtin_dataflows()
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in registered():
            _load_entry_point(entry)
    return dict(sorted(registered().items()))


def get_dataflow(name: str) -> type:
    """The class registered as `name`; an installed entry point of that name is loaded on first use. An unknown
    name raises with the closest match and all known names."""
    if name not in registered() and name in BUILTIN_DATAFLOWS:
        importlib.import_module(BUILTIN_DATAFLOWS[name])
    if name not in registered():
        for entry in entry_points(group=ENTRY_POINT_GROUP, name=name):
            _load_entry_point(entry)
    if name not in registered():
        raise UnknownDataflowError(unknown("dataflow kind", name, registered_dataflows()) + (
            " A dataflow of your own: give its file as dataflow.python_file in the arch YAML, or install a package "
            f"with an entry point in the group {ENTRY_POINT_GROUP!r}."))
    return registered()[name]


def load_dataflow_file(path: Path, kind: str) -> type:
    """Import the Python file `path` (once per process) and return the dataflow it registers as `kind`."""
    path = Path(path).resolve()
    if path.suffix != ".py" or not path.is_file():
        raise DataflowSourceError(f"dataflow.python_file {path}: no such Python file (give a path to a .py file, "
                                  f"relative to the arch YAML)")
    if path not in _LOADED_FILES:
        before = set(registered())
        module_name = f"accelsim_user_dataflow_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses and pickling look classes up by module
        try:
            spec.loader.exec_module(module)
        except ContractError as error:
            del sys.modules[module_name]
            raise DataflowSourceError(f"dataflow.python_file {path}: {error}") from None
        except Exception as error:
            del sys.modules[module_name]
            raise DataflowSourceError(f"dataflow.python_file {path}: importing it failed: "
                                      f"{type(error).__name__}: {error}") from error
        _LOADED_FILES[path] = set(registered()) - before
    defined = _LOADED_FILES[path]
    if kind not in defined:
        found = ", ".join(sorted(defined)) or "none"
        raise DataflowSourceError(f"dataflow.python_file {path} registers no dataflow named {kind!r} (it registers: "
                                  f"{found}); decorate its class with @register_dataflow({kind!r}) from "
                                  f"accelsim.dataflows.registry")
    return registered()[kind]


def _load_entry_point(entry) -> None:
    """Load an entry point: a module whose import registers the dataflow, or a class to register under the entry
    point's name (decorated or not)."""
    where = f"entry point {entry.name!r} ({entry.value}) in group {ENTRY_POINT_GROUP!r}"
    try:
        loaded = entry.load()
    except ContractError as error:
        raise DataflowSourceError(f"{where}: {error}") from None
    except Exception as error:
        raise DataflowSourceError(f"{where}: loading it failed: {type(error).__name__}: {error}") from error
    if isinstance(loaded, type) and registered().get(entry.name) is not loaded:
        problems = contract_problems(loaded)
        if problems:
            raise DataflowSourceError(f"{where}: {loaded.__name__} does not follow the dataflow contract: "
                                      + "; ".join(problems))
        register_dataflow(entry.name)(loaded)
    if entry.name not in registered():
        raise DataflowSourceError(f"{where}: loading it registered no dataflow named {entry.name!r}; point it at "
                                  f"the dataflow class, or at a module that decorates it with "
                                  f"@register_dataflow({entry.name!r})")
