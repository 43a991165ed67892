"""`oneshot` (prune once, optionally fine-tune), `iterative:K` (Han et al. 2015: prune and fine-tune in K rounds
to the target) and `lr-rewind:K` (Renda et al. 2020: the same rounds, retraining with the original training's
learning rate instead of fine-tuning at a low one).

Round i of K prunes to the exponential schedule's sparsity 1 - (1 - target)^(i/K) (a fixed fraction of the
remaining weights each round, as Han et al. and Frankle and Carbin prune); the last round is the scheme itself, so
the target is met exactly. The recipes of the zoo's trained models have a constant learning rate, so "the
learning rate schedule of the last epochs" that LR rewinding replays is that constant rate: fine-tuning differs
from it only in running at a tenth of it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from accelsim.frontend.training import TrainingSetup
from accelsim.pruning.prune import intermediate_sparsity
from accelsim.pruning.schedules.base import (
    FINE_TUNE_LR_FACTOR,
    PruningJob,
    Schedule,
    ScheduleResult,
    combined_report,
    round_record,
)


class OneShot(Schedule):
    name: ClassVar[str] = "oneshot"
    syntax: ClassVar[str] = "oneshot"
    summary: ClassVar[str] = "prune once (the default); with --fine-tune-epochs E, then fine-tune at lr/10"

    kind: Literal["oneshot"] = "oneshot"

    @property
    def text(self) -> str:
        return "oneshot"

    def default_epochs(self, training: TrainingSetup | None) -> int:
        return 0

    def run(self, job: PruningJob) -> ScheduleResult:
        report = job.prune(job.model)
        if self.epochs(job):
            job.train(job.model, self.epochs(job), job.training.recipe.lr * FINE_TUNE_LR_FACTOR, "fine-tuning")
        return ScheduleResult(job.model, combined_report(report, report, job.model), [round_record(job, job.model, 1)])


class Iterative(Schedule):
    name: ClassVar[str] = "iterative"
    syntax: ClassVar[str] = "iterative:<rounds>"
    summary: ClassVar[str] = "K rounds of prune + fine-tune at lr/10 to the target (Han et al. 2015); 2 epochs a round"

    kind: Literal["iterative"] = "iterative"
    rounds: int = Field(ge=1)
    rewind_learning_rate: ClassVar[bool] = False

    @property
    def text(self) -> str:
        return f"{self.name}:{self.rounds}"

    def default_epochs(self, training: TrainingSetup | None) -> int:
        return 2

    def run(self, job: PruningJob) -> ScheduleResult:
        lr_factor = 1.0 if self.rewind_learning_rate else FINE_TUNE_LR_FACTOR
        first = report = None
        records = []
        for index in range(1, self.rounds + 1):
            sparsity = None if index == self.rounds else self._sparsity(job, index)
            report = job.prune(job.model, sparsity)
            first = first or report
            if self.epochs(job):
                job.train(job.model, self.epochs(job), job.training.recipe.lr * lr_factor,
                          f"round {index}/{self.rounds}: retraining")
            records.append(round_record(job, job.model, index))
        return ScheduleResult(job.model, combined_report(first, report, job.model), records)

    def _sparsity(self, job: PruningJob, index: int) -> float | None:
        target = job.scheme.target_sparsity
        return None if target is None else intermediate_sparsity(target, index / self.rounds)


class LRRewind(Iterative):
    name: ClassVar[str] = "lr-rewind"
    syntax: ClassVar[str] = "lr-rewind:<rounds>"
    summary: ClassVar[str] = "K rounds of prune + retrain at the recipe's learning rate (Renda et al. 2020)"

    kind: Literal["lr-rewind"] = "lr-rewind"
    rewind_learning_rate: ClassVar[bool] = True
