"""The package's layers (docs/dataflows.md, ../shared/DESIGN.md): every import, at module level or inside a
function, goes from a module to one in its own layer or a layer below; there is no import cycle; no dataflow folder
imports another; only the front end and the kernel bench import torch; a dense run from a topology loads neither
torch nor numba (start-up time)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "accelsim"
# Lowest first. A module may import modules of its own layer and of the layers before it.
LAYERS = (
    ("IR", ("accelsim", "accelsim.names", "accelsim.cache_folder", "accelsim.workload", "accelsim.workload_io",
            "accelsim.workload_summary", "accelsim.reference", "accelsim.formats")),
    ("front end", ("accelsim.frontend", "accelsim.pruning")),
    ("spec", ("accelsim.arch",)),
    ("results", ("accelsim.results", "accelsim.network_result")),
    ("dataflows", ("accelsim.dataflows",)),
    ("energy", ("accelsim.energy", "accelsim.energy_tables")),
    ("drivers", ("accelsim.arch_configs", "accelsim.simulate", "accelsim.report", "accelsim.kernel_bench",
                 "accelsim.dse", "accelsim.cli")),
)
TORCH_ALLOWED = ("accelsim.frontend", "accelsim.pruning", "accelsim.kernel_bench")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(path: Path) -> set[str]:
    """Modules `path` imports anywhere but under `if TYPE_CHECKING:` (`from X import y` counts as X.y when that
    is a module, else as X)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


GRAPH = {name: {other for other in imports(path) if other in MODULES and other != name}
         for name, path in MODULES.items()}


def layer_of(module: str) -> int:
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module):
    for other in sorted(GRAPH[module]):
        assert layer_of(other) <= layer_of(module), (
            f"{module} ({LAYERS[layer_of(module)][0]}) imports {other} ({LAYERS[layer_of(other)][0]}), a higher layer")


def test_there_is_no_import_cycle():
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        stack.append(module)
        for other in sorted(GRAPH[module]):
            if state.get(other) == "open":
                cycle = [*stack[stack.index(other):], other]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if other not in state:
                visit(other)
        stack.pop()
        state[module] = "done"

    for module in sorted(MODULES):
        if module not in state:
            visit(module)


def test_dataflow_folders_import_only_shared_pieces():
    for module, others in GRAPH.items():
        parts = module.split(".")
        if len(parts) < 3 or parts[1] != "dataflows" or parts[2] in ("shared", "catalog", "registry"):
            continue
        for other in others:
            other_parts = other.split(".")
            if other_parts[:2] == ["accelsim", "dataflows"] and len(other_parts) > 2:
                assert other_parts[2] in (parts[2], "shared", "registry"), f"{module} imports {other}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_front_end_and_the_kernel_bench_import_torch(module):
    if not module.startswith(TORCH_ALLOWED):
        assert not {name for name in imports(MODULES[module]) if name.split(".")[0] in ("torch", "torchvision",
                                                                                         "transformers")}, module


def test_a_topology_run_imports_neither_torch_nor_numba():
    # What `accelsim run --arch scale.cfg --workload topo.csv` imports (benchmarks/bench_startup.py times it).
    code = ("import sys\n"
            "from accelsim.arch_configs import load_arch\n"
            "from accelsim.frontend.build import build_workload\n"
            "from accelsim.simulate import simulate\n"
            "import accelsim.cli\n"
            "workload = build_workload('workloads/scalesim/resnet18.csv').workload\n"
            "simulate(workload, load_arch('validation/scalesim/configs/scale.cfg'))\n"
            "print(sorted(m for m in ('torch', 'numba') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
