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
    from accelsim.pruning.schedules import TrainingProgress


@dataclass(frozen=True)
class BuiltWorkload:
    workload: Workload
    prune_report: PruneReport | None = None
    notes: dict = field(default_factory=dict)
    """Facts worth printing next to the table: the test accuracy before and after pruning (None: unknown, the
    model has no data), the criterion, schedule and epochs of training that ran."""


def _synthetic_names() -> dict[str, str]:
    from accelsim.frontend.synthetic import SYNTHETIC_TABLES

    return dict(SYNTHETIC_TABLES)


def known_workload_names() -> list[str]:
    return sorted([*MODELS, *_synthetic_names()])


def build_workload(model: str, prune: str = "none", *, seed: int = 0, input_shape: tuple[int, ...] | None = None,
                   checkpoint: str | Path | None = None, on_layer: Callable[[Layer], None] | None = None,
                   criterion: str = "magnitude", schedule: str = "oneshot", fine_tune_epochs: int | None = None,
                   mask: str | Path | None = None, on_training: TrainingProgress | None = None,
                   time_steps_per_layer: int = 1) -> BuiltWorkload:
    """Build, prune and lower `model` (see the module docstring for what a name may be). `criterion`, `schedule`,
    `fine_tune_epochs` and `mask` are those of accelsim/frontend/prune_model.py; `on_training` reports training
    progress (accelsim.pruning.schedules.TrainingProgress); `time_steps_per_layer` is `lower`'s."""
    if model in MODELS:
        from accelsim.frontend.prune_model import PruningOptions
        from accelsim.pruning import parse_scheme

        # parse and check first: a typo or a bad combination fails before the model is built
        options = PruningOptions.parse(parse_scheme(prune, seed=seed), criterion, schedule, fine_tune_epochs, mask)
        options.check(model, MODELS[model], checkpoint)
        return _from_zoo(model, options, seed, input_shape, checkpoint, on_layer, on_training, time_steps_per_layer)
    synthetic = _synthetic_names()
    path = Path(model)
    if model in synthetic or (path.suffix == ".csv" and path.is_file()):
        asked = {"--prune": prune.strip() != "none", "--criterion": criterion != "magnitude",
                 "--schedule": schedule != "oneshot", "--fine-tune-epochs": fine_tune_epochs is not None,
                 "--mask": mask is not None}
        if any(asked.values()):
            raise ValueError(f"{model} is a layer table whose densities are part of it; pruning it "
                             f"({', '.join(option for option, given in asked.items() if given)}) is not supported")
        if input_shape is not None or checkpoint is not None or time_steps_per_layer != 1:
            raise ValueError(f"{model} is a layer table: --input, --checkpoint and --time-steps-per-layer apply to "
                             f"zoo models only")
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


def _from_zoo(name, options, seed, input_shape, checkpoint, on_layer, on_training,
              time_steps_per_layer) -> BuiltWorkload:
    from accelsim.frontend.lower import LoweringError, lower
    from accelsim.frontend.prune_model import prune_zoo_model

    entry = get_model(name)
    shape = tuple(input_shape) if input_shape else entry.default_input_shape
    example_input = entry.make_input(shape, seed)  # validate the shape before the (slow) model build
    model = entry.build(seed)
    if checkpoint is not None:
        from accelsim.frontend.checkpoint import load_checkpoint

        load_checkpoint(model, checkpoint)
    pruned = prune_zoo_model(name, model, options, seed=seed, example_input=example_input, on_training=on_training)
    provenance = {"model": name, "scheme": options.scheme.text, "seed": seed, "input_shape": list(shape),
                  "checkpoint": str(checkpoint) if checkpoint else None,
                  "weight_density_after_pruning": pruned.report.density_after, **pruned.notes}
    try:
        workload = lower(pruned.model, example_input, provenance=provenance, on_layer=on_layer,
                         time_steps_per_layer=time_steps_per_layer)
    except LoweringError as error:
        default = "x".join(map(str, entry.default_input_shape))
        raise LoweringError(f"{error}\n{name} takes --input shapes like its default {default} (see `accelsim "
                            f"list`); --input {'x'.join(map(str, shape))} did not run") from error
    return BuiltWorkload(workload, pruned.report, pruned.notes)
