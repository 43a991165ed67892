"""From a name to a workload: the one pipeline behind `accelsim lower` and its Python twin `build_workload`.

A name is a zoo model (built, optionally loaded from a checkpoint, pruned, lowered on a seeded example input), a
synthetic layer table (`eie-benchmark`, `mobilenet-v1`: densities come from the table, so pruning is refused), or
a path to a CSV file (a SCALE-Sim topology or an accelsim layer table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from accelsim.frontend.zoo import MODELS, get_model, unknown_name
from accelsim.workload import Layer, Workload

if TYPE_CHECKING:  # torch comes with pruning and lowering: a layer table or a saved workload never needs it
    from accelsim.pruning import PruneReport


@dataclass(frozen=True)
class BuiltWorkload:
    workload: Workload
    prune_report: PruneReport | None = None
    notes: dict = field(default_factory=dict)
    """Facts worth printing next to the table, e.g. digits-cnn's test accuracy before and after pruning."""


def _synthetic_names() -> dict[str, str]:
    from accelsim.frontend.synthetic import SYNTHETIC_TABLES

    return dict(SYNTHETIC_TABLES)


def known_workload_names() -> list[str]:
    return sorted([*MODELS, *_synthetic_names()])


def build_workload(model: str, prune: str = "none", *, seed: int = 0, input_shape: tuple[int, ...] | None = None,
                   checkpoint: str | Path | None = None,
                   on_layer: Callable[[Layer], None] | None = None) -> BuiltWorkload:
    """Build, prune and lower `model` (see the module docstring for what a name may be)."""
    if model in MODELS:
        from accelsim.pruning import parse_scheme

        scheme = parse_scheme(prune, seed=seed)  # parse first: a typo in the scheme fails before the model is built
        return _from_zoo(model, scheme, seed, input_shape, checkpoint, on_layer)
    synthetic = _synthetic_names()
    path = Path(model)
    if model in synthetic or (path.suffix == ".csv" and path.is_file()):
        if prune.strip() != "none":
            raise ValueError(f"{model} is a layer table whose densities are part of it; pruning it with "
                             f"{prune!r} is not supported (use --prune none)")
        if input_shape is not None or checkpoint is not None:
            raise ValueError(f"{model} is a layer table: --input and --checkpoint apply to zoo models only")
        if model in synthetic:
            from accelsim.frontend.synthetic import synthetic_workload

            return BuiltWorkload(synthetic_workload(model, seed=seed))
        return BuiltWorkload(_from_csv(path, seed))
    raise unknown_name("model", model, known_workload_names())


def _from_csv(path: Path, seed: int) -> Workload:
    from accelsim.frontend.synthetic import workload_from_table

    first_line = (path.read_text().lstrip().splitlines() or [""])[0]
    if first_line.lower().startswith("layer"):  # SCALE-Sim topologies start with "Layer name," / "Layer,"
        from accelsim.frontend.scalesim_topology import read_scalesim_topology

        return read_scalesim_topology(path, seed=seed)
    return workload_from_table(path, seed=seed)


def _from_zoo(name, scheme, seed, input_shape, checkpoint, on_layer) -> BuiltWorkload:
    from accelsim.frontend.lower import lower
    from accelsim.pruning import apply

    entry = get_model(name)
    shape = tuple(input_shape) if input_shape else entry.default_input_shape
    example_input = entry.make_input(shape, seed)  # validate the shape before the (slow) model build
    model = entry.build(seed)
    if checkpoint is not None:
        from accelsim.frontend.checkpoint import load_checkpoint

        load_checkpoint(model, checkpoint)
    notes = {}
    accuracy_before = _digits_accuracy(model) if name == "digits-cnn" else None
    report = apply(model, scheme)
    if accuracy_before is not None:
        notes = {"test_accuracy_before_pruning": accuracy_before, "test_accuracy_after_pruning":
                 _digits_accuracy(model)}
    provenance = {"model": name, "scheme": scheme.text, "seed": seed, "input_shape": list(shape),
                  "checkpoint": str(checkpoint) if checkpoint else None,
                  "weight_density_after_pruning": report.density_after, **notes}
    workload = lower(model, example_input, provenance=provenance, on_layer=on_layer)
    return BuiltWorkload(workload, report, notes)


def _digits_accuracy(model) -> float:
    from accelsim.frontend.digits import accuracy, load_digits_data

    data = load_digits_data()
    return accuracy(model, data.test_images, data.test_labels)
