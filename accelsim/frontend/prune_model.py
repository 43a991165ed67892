"""Pruning a zoo model as `accelsim lower` / `run` ask: scheme x criterion x schedule, checked against what the
model has (training data, its own initialisation), with its test accuracy before and after when it has data.

The checks come before any work, each one error naming the option, the value and what is allowed: a criterion
that needs data, or a schedule that trains, on a model without data; a schedule that starts from the
initialisation (at-init, lottery) on a checkpoint's weights, whose initialisation is unknown."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from accelsim.frontend.lower import describe_input
from accelsim.frontend.zoo import MODELS, ZooModel
from accelsim.pruning import PruneReport, PruningError, SchemeBase
from accelsim.pruning.criteria import Criterion, parse_criterion
from accelsim.pruning.prune import check_criterion
from accelsim.pruning.schedules import OneShot, PruningJob, Schedule, TrainingProgress, parse_schedule


@dataclass(frozen=True)
class PruningOptions:
    """The pruning a user asked for, parsed and checked against the model (`check`)."""

    scheme: SchemeBase
    criterion: Criterion
    schedule: Schedule
    fine_tune_epochs: int | None = None
    mask_file: Path | None = None

    @classmethod
    def parse(cls, scheme: SchemeBase, criterion: str = "magnitude", schedule: str = "oneshot",
              fine_tune_epochs: int | None = None, mask_file: str | Path | None = None) -> PruningOptions:
        if fine_tune_epochs is not None and fine_tune_epochs < 0:
            raise PruningError(f"--fine-tune-epochs {fine_tune_epochs}: give 0 or more epochs")
        options = cls(scheme, parse_criterion(criterion), parse_schedule(schedule), fine_tune_epochs,
                      Path(mask_file) if mask_file is not None else None)
        check_criterion(scheme, options.criterion)
        return options

    @property
    def trains(self) -> bool:
        return not isinstance(self.schedule, OneShot) or bool(self.fine_tune_epochs)

    def check(self, name: str, entry: ZooModel, checkpoint: str | Path | None) -> None:
        with_data = ", ".join(n for n, e in MODELS.items() if e.training is not None)
        if entry.training is None and self.criterion.needs_data:
            raise PruningError(f"--criterion {self.criterion.text} scores weights on the model's training data, "
                               f"and {name} has none (models with data: {with_data}); data-free criteria: "
                               f"magnitude, random, synflow")
        if entry.training is None and self.trains:
            raise PruningError(f"--schedule {self.schedule.text}"
                               f"{f' --fine-tune-epochs {self.fine_tune_epochs}' if self.fine_tune_epochs else ''} "
                               f"trains the model on its own data, and {name} has none (models with data: "
                               f"{with_data}); without data only --schedule oneshot without fine-tuning applies")
        if self.schedule.starts_from_initialisation and checkpoint is not None:
            raise PruningError(f"--schedule {self.schedule.text} starts again from {name}'s initialisation, which "
                               f"a checkpoint ({checkpoint}) does not carry; use oneshot, iterative:K or "
                               f"lr-rewind:K on a checkpoint")
        if self.scheme.text == "none" and (self.trains or self.criterion.name != "magnitude") \
                and self.mask_file is None:
            raise PruningError(f"--prune none prunes nothing, so --criterion {self.criterion.text} and --schedule "
                               f"{self.schedule.text} have nothing to do; give a scheme such as global:0.9")


@dataclass
class PrunedModel:
    model: nn.Module
    report: PruneReport
    notes: dict = field(default_factory=dict)
    """Test accuracy before and after (None when the model has no data), and what ran."""


def prune_zoo_model(name: str, model: nn.Module, options: PruningOptions, *, seed: int,
                    example_input, on_training: TrainingProgress | None = None) -> PrunedModel:
    """Prune `model` (zoo model `name`, already built and loaded) as `options` say."""
    from accelsim.frontend.mask_file import apply_mask_file
    from accelsim.frontend.training import heldout_accuracy

    entry = MODELS[name]
    training = entry.training(seed) if entry.training is not None else None
    if options.mask_file is not None:
        apply_mask_file(options.mask_file, model)
    before = heldout_accuracy(model, training.data) if training is not None else None
    mask_file = options.mask_file
    job = PruningJob(model, options.scheme, options.criterion, training, options.fine_tune_epochs,
                     example_input, seed, on_training,
                     None if mask_file is None else lambda fresh: apply_mask_file(mask_file, fresh))
    result = options.schedule.run(job)
    after = heldout_accuracy(result.model, training.data) if training is not None else None
    notes = {"test_accuracy_before_pruning": before, "test_accuracy_after_pruning": after,
             "test_images": len(training.data.test_labels) if training is not None else None,
             "criterion": options.criterion.text, "schedule": options.schedule.text,
             "fine_tune_epochs": options.schedule.epochs(job) if training is not None else 0,
             "mask_file": str(options.mask_file) if options.mask_file is not None else None,
             **({"calibration": f"the lowering's own sample input ({describe_input(example_input)}, seed {seed})"}
                if options.criterion.name == "wanda" else {}),
             "pruning_rounds": result.rounds}
    return PrunedModel(result.model, result.report, notes)
