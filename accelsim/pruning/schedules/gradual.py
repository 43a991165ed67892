"""`gradual[:N]` (Zhu and Gupta 2017, "To prune, or not to prune"): sparsity rises along a cubic while the model
trains, s_j = s_f (1 - (1 - j/N)^3) at N pruning steps spread evenly over the first three quarters of training;
the last quarter trains with the final mask (recovery). Pruning happens between optimiser steps; the new zeros are
enforced from the next step on. Training runs at the recipe's learning rate for --fine-tune-epochs (default 5)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from accelsim.frontend.training import TrainingSetup, steps_per_epoch, train
from accelsim.pruning.schedules.base import PruningJob, Schedule, ScheduleResult, combined_report, round_record
from accelsim.pruning.targets import find_prunable_weights

PRUNING_SHARE = 0.75
"""The share of training steps over which sparsity rises."""


def cubic_sparsity(target: float, step: int, steps: int) -> float:
    """Zhu and Gupta's s_j = s_f (1 - (1 - j/N)^3) with initial sparsity 0."""
    return target * (1.0 - (1.0 - step / steps) ** 3)


class Gradual(Schedule):
    name: ClassVar[str] = "gradual"
    syntax: ClassVar[str] = "gradual[:<pruning steps>]"
    summary: ClassVar[str] = "cubic sparsity ramp while training (Zhu and Gupta 2017), 10 steps; 5 epochs at lr"

    kind: Literal["gradual"] = "gradual"
    steps: int = Field(10, ge=1)

    @property
    def text(self) -> str:
        return f"gradual:{self.steps}"

    def default_epochs(self, training: TrainingSetup | None) -> int:
        return 5

    def run(self, job: PruningJob) -> ScheduleResult:
        epochs = self.epochs(job)
        setup = job.training
        total = epochs * steps_per_epoch(setup.data, setup.recipe.batch_size)
        if total < self.steps:
            from accelsim.pruning.errors import PruningError

            raise PruningError(f"gradual:{self.steps} prunes at {self.steps} training steps, but {epochs} epoch(s) "
                               f"have only {total}; give more --fine-tune-epochs or fewer pruning steps")
        at_step = {max(1, (j * int(PRUNING_SHARE * total)) // self.steps): j for j in range(1, self.steps + 1)}
        target = job.scheme.target_sparsity
        reports = []
        names = [f"{w.module_name}.{w.param}" if w.module_name else w.param for w in find_prunable_weights(job.model)]
        params = dict(job.model.named_parameters())
        masks = {name: (params[name].detach() != 0).to(params[name].dtype) for name in names}
        advance = job.on_training("gradual pruning while training", total) if job.on_training else None

        def on_step(step: int) -> None:
            j = at_step.get(step)
            if j is not None:
                sparsity = None if j == self.steps or target is None else cubic_sparsity(target, j, self.steps)
                reports.append(job.prune(job.model, sparsity))
                for name in names:
                    masks[name].copy_((params[name].detach() != 0).to(masks[name].dtype))
            if advance is not None:
                advance()

        job.trainings += 1
        train(job.model, setup.data, epochs=epochs, lr=setup.recipe.lr, seed=setup.seed * 1000 + job.trainings,
              batch_size=setup.recipe.batch_size, masks=masks, on_step=on_step)
        return ScheduleResult(job.model, combined_report(reports[0], reports[-1], job.model),
                              [round_record(job, job.model, 1)])
