"""One pruning choice of a sweep: a scheme and, optionally, how it is applied (criterion, schedule, fine-tuning),
as `accelsim lower --prune --criterion --schedule --fine-tune-epochs` take them.

Its `label` is the `prune` column and part of a point's id: the bare scheme when the options are the defaults (so
a plain scheme keeps the id it always had), else the scheme followed by the options that differ, e.g.
`global:0.9 criterion=snip schedule=at-init`."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CRITERION = "magnitude"
DEFAULT_SCHEDULE = "oneshot"


@dataclass(frozen=True)
class PruningChoice:
    scheme: str
    criterion: str = DEFAULT_CRITERION
    schedule: str = DEFAULT_SCHEDULE
    fine_tune_epochs: int | None = None

    @property
    def label(self) -> str:
        options = [f"criterion={self.criterion}" if self.criterion != DEFAULT_CRITERION else "",
                   f"schedule={self.schedule}" if self.schedule != DEFAULT_SCHEDULE else "",
                   f"fine_tune_epochs={self.fine_tune_epochs}" if self.fine_tune_epochs is not None else ""]
        return " ".join([self.scheme, *filter(None, options)])

    @property
    def prunes(self) -> bool:
        return self.label != "none"
