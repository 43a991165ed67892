"""Schedules that go back to the initialisation: `lottery:K` (Frankle and Carbin 2019, iterative magnitude pruning
with rewinding; `rewind=E` rewinds to the weights after E epochs instead of the initial ones, as Frankle et al.
2020 found necessary for larger networks) and `at-init` (rank once at initialisation, then train the sparse
network from scratch: how SNIP, GraSP and SynFlow are used).

lottery:K: the trained model is pruned to 1 - (1 - target)^(1/K); the surviving weights are reset to their
rewind values and trained again (--fine-tune-epochs, default the recipe's full length) with the mask enforced;
repeated K times, the last pruning to the exact target, then the ticket is trained once more. Both need the
model's own initialisation, so a model loaded from a checkpoint is refused (build.py)."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field

from accelsim.frontend.training import TrainingSetup, train
from accelsim.pruning.prune import intermediate_sparsity
from accelsim.pruning.schedules.base import PruningJob, Schedule, ScheduleResult, combined_report, round_record
from accelsim.pruning.targets import find_prunable_weights


class Lottery(Schedule):
    name: ClassVar[str] = "lottery"
    syntax: ClassVar[str] = "lottery:<rounds>[:rewind=<epochs>]"
    summary: ClassVar[str] = "iterative pruning with weight rewinding to init or epoch E (Frankle and Carbin 2019)"
    starts_from_initialisation: ClassVar[bool] = True

    kind: Literal["lottery"] = "lottery"
    rounds: int = Field(ge=1)
    rewind: int = Field(0, ge=0)
    """Epochs of the original training to rewind to (0: the initial weights)."""

    @property
    def text(self) -> str:
        return f"lottery:{self.rounds}" + (f":rewind={self.rewind}" if self.rewind else "")

    def default_epochs(self, training: TrainingSetup | None) -> int:
        return training.recipe.epochs if training is not None else 0

    def rewind_state(self, job: PruningJob) -> dict[str, torch.Tensor]:
        """The weights the recipe's own training passed through after `rewind` epochs (same seed, same order)."""
        setup = job.training
        model = setup.init()
        if self.rewind:
            train(model, setup.data, epochs=self.rewind, lr=setup.recipe.lr, seed=setup.seed,
                  batch_size=setup.recipe.batch_size, threads=setup.recipe.threads)
        return {name: value.detach().clone() for name, value in model.state_dict().items()}

    def run(self, job: PruningJob) -> ScheduleResult:
        rewind_to = self.rewind_state(job)
        model, epochs, lr = job.model, self.epochs(job), job.training.recipe.lr
        first = report = None
        records = []
        for index in range(1, self.rounds + 1):
            target = job.scheme.target_sparsity
            sparsity = None if index == self.rounds or target is None else intermediate_sparsity(target,
                                                                                                 index / self.rounds)
            report = job.prune(model, sparsity)
            first = first or report
            _rewind(model, rewind_to)
            job.train(model, epochs, lr, f"round {index}/{self.rounds}: training the rewound ticket")
            records.append(round_record(job, model, index))
        return ScheduleResult(model, combined_report(first, report, model), records)


def _rewind(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Reset every parameter and buffer to `state`, keeping the current zeros of the prunable weights (the mask)."""
    masked = {f"{w.module_name}.{w.param}" if w.module_name else w.param for w in find_prunable_weights(model)}
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            keep = tensor != 0 if name in masked else None
            tensor.copy_(state[name])
            if keep is not None:
                tensor.mul_(keep)


class AtInit(Schedule):
    name: ClassVar[str] = "at-init"
    syntax: ClassVar[str] = "at-init"
    summary: ClassVar[str] = "prune the initialisation, then train the sparse network from scratch (SNIP, SynFlow)"
    starts_from_initialisation: ClassVar[bool] = True

    kind: Literal["at-init"] = "at-init"

    @property
    def text(self) -> str:
        return "at-init"

    def default_epochs(self, training: TrainingSetup | None) -> int:
        return training.recipe.epochs if training is not None else 0

    def run(self, job: PruningJob) -> ScheduleResult:
        model = job.training.init()
        if job.prepare_initialisation is not None:
            job.prepare_initialisation(model)
        report = job.prune(model)
        job.train(model, self.epochs(job), job.training.recipe.lr, "training the pruned initialisation")
        return ScheduleResult(model, combined_report(report, report, model), [round_record(job, model, 1)])
