"""What every schedule shares: the job it runs (model, scheme, criterion, the model's training setup), what it
returns (the pruned model, the report, one record per round), and training with the current zeros enforced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import BaseModel, ConfigDict
from torch import nn

from accelsim.frontend.training import TrainingSetup, heldout_accuracy, nonzero_masks, steps_per_epoch, train
from accelsim.pruning.base import SchemeBase
from accelsim.pruning.criteria import Criterion, ScoringContext
from accelsim.pruning.prune import prune
from accelsim.pruning.report import PruneReport
from accelsim.pruning.targets import find_prunable_weights

FINE_TUNE_LR_FACTOR = 0.1
"""Fine-tuning runs at a tenth of the recipe's learning rate (Han et al. 2015); rewinding schedules use the
recipe's own rate."""

TrainingProgress = Callable[[str, int], Callable[[], None]]
"""(description, total steps) -> a function to call after each step: how a schedule reports training."""


@dataclass
class PruningJob:
    """One pruning run: `model` is the trained model (or a checkpoint's), pruned in place unless the schedule starts
    from the initialisation (then `result.model` is another object)."""

    model: nn.Module
    scheme: SchemeBase
    criterion: Criterion
    training: TrainingSetup | None = None
    fine_tune_epochs: int | None = None
    """Epochs of (re)training per round; None: the schedule's default."""
    example_input: object = None
    """The model's sample input (ScoringContext.example_input)."""
    seed: int = 0
    on_training: TrainingProgress | None = None
    prepare_initialisation: Callable[[nn.Module], None] | None = None
    """Applied to a fresh initialisation before it is pruned (a user's --mask, at-init)."""
    trainings: int = field(default=0, init=False)
    """Training runs so far: each one's batch order is seeded by (seed, this count)."""

    def context(self, model: nn.Module) -> ScoringContext:
        data = self.training.data if self.training is not None else None
        return ScoringContext(model, data, self.example_input, self.seed)

    def prune(self, model: nn.Module, sparsity: float | None = None) -> PruneReport:
        """Prune `model` by the scheme (at `sparsity` when given, else its own target) and the criterion."""
        scheme = self.scheme if sparsity is None else self.scheme.with_sparsity(sparsity)
        return prune(model, scheme, self.criterion, self.context(model))

    def train(self, model: nn.Module, epochs: int, lr: float, what: str) -> None:
        """Train `model` with its current zeros (in every prunable weight) kept at zero."""
        if epochs <= 0:
            return
        setup = self.training
        names = [f"{w.module_name}.{w.param}" if w.module_name else w.param for w in find_prunable_weights(model)]
        total = epochs * steps_per_epoch(setup.data, setup.recipe.batch_size)
        advance = self.on_training(what, total) if self.on_training is not None else None
        self.trainings += 1
        train(model, setup.data, epochs=epochs, lr=lr, seed=setup.seed * 1000 + self.trainings,
              batch_size=setup.recipe.batch_size, masks=nonzero_masks(model, names),
              on_step=None if advance is None else lambda _step: advance())


@dataclass
class ScheduleResult:
    model: nn.Module
    report: PruneReport
    rounds: list[dict] = field(default_factory=list)
    """Per round: {"round", "sparsity" (of the prunable weights), "test_accuracy" (None without data)}."""


def round_record(job: PruningJob, model: nn.Module, index: int) -> dict:
    weights = find_prunable_weights(model)
    total = sum(w.stored.numel() for w in weights)
    zeros = total - sum(w.nonzeros for w in weights)
    accuracy = heldout_accuracy(model, job.training.data) if job.training is not None else None
    return {"round": index, "sparsity": zeros / total if total else 0.0, "test_accuracy": accuracy}


def combined_report(first: PruneReport, last: PruneReport, model: nn.Module) -> PruneReport:
    """`last`'s rows with the nonzeros before the first round, and after everything (training included)."""
    from dataclasses import replace

    after = {w.name: w.nonzeros for w in find_prunable_weights(model)}
    rows = tuple(replace(row, nonzeros_before=before.nonzeros_before, nonzeros_after=after[row.name])
                 for row, before in zip(last.rows, first.rows, strict=True))
    return PruneReport(last.scheme, rows)


class Schedule(BaseModel):
    """When and how often to prune. Subclasses set the ClassVars and implement `run`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ClassVar[str]
    syntax: ClassVar[str]
    summary: ClassVar[str]
    starts_from_initialisation: ClassVar[bool] = False
    """Whether the schedule needs the model's initialisation (at-init, lottery): refused with a checkpoint."""

    @property
    def text(self) -> str:
        raise NotImplementedError

    def default_epochs(self, training: TrainingSetup | None) -> int:
        """Epochs of (re)training per round when --fine-tune-epochs is not given."""
        raise NotImplementedError

    def epochs(self, job: PruningJob) -> int:
        return self.default_epochs(job.training) if job.fine_tune_epochs is None else job.fine_tune_epochs

    def run(self, job: PruningJob) -> ScheduleResult:
        raise NotImplementedError
