"""The sweep spec: a YAML file naming the models, pruning schemes, archs with their override grids, and the search.

    models:                                   # a zoo model, a layer table (name or CSV) or a workload folder
      - {model: digits-cnn, input: 16x1x8x8}
    prune: [none, "global:0.8", "nm:2:4",    # pruning schemes (zoo models only), or a scheme with how to apply it:
            {scheme: "global:0.9", criterion: snip, schedule: iterative:5, fine_tune_epochs: 2}]
    archs:
      - {arch: eie, set: {dataflow.fifo_depth: [1, 2, 8]}}
      - {arch: scnn}
    search: {kind: grid}                      # or {kind: random, samples: N}, or {kind: nsga2, trials: N, ...}

Every model forbids unknown keys, so a typo fails with its key path and "did you mean" (the same messages as an
arch file, `accelsim.arch.yaml_io.describe_errors`). What the names point to (models, archs, override keys and
values) is checked in `accelsim.dse.space`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator, model_validator

from accelsim.arch.yaml_io import ArchError, describe_errors, read_yaml_mapping
from accelsim.dse.columns import OBJECTIVE_COLUMNS
from accelsim.names import did_you_mean

_STRICT = ConfigDict(extra="forbid", frozen=True)
Scalar = bool | int | float | str | None
Number = int | float


class SweepSpecError(ValueError):
    """A sweep spec that cannot be read or is invalid. The message names the file and every bad key path."""


class Axis(BaseModel):
    """The values one override takes. In YAML a list is `values`, a single value is a fixed override, and a
    mapping gives a range (`low`, `high`, optional `log`, `step`) or ties the override to another (`follows`)."""

    model_config = _STRICT

    values: list[Scalar] | None = None
    """The values to try: a grid tries each, random and nsga2 searches pick among them."""
    low: Number | None = None
    """Smallest value of a range (integers when both ends are integers)."""
    high: Number | None = None
    """Largest value of a range, included."""
    log: bool = False
    """Sample the range on a log scale; with `step`, the step is the factor between values (1, 2, 4, ...)."""
    step: Number | None = None
    """Spacing of a range's values (a grid needs it); without it, random and nsga2 searches draw any value."""
    follows: str | None = None
    """Another override key of the same arch entry: this one is `times` x that value + `plus` (EIE's memory
    instances follow its PE count)."""
    times: Number = 1
    """Factor applied to the followed value."""
    plus: Number = 0
    """Offset added to the followed value."""

    @model_validator(mode="after")
    def _one_form(self) -> Axis:
        has_range = self.low is not None or self.high is not None
        forms = [name for name, given in (("values", self.values is not None), ("low/high", has_range),
                                          ("follows", self.follows is not None)) if given]
        if len(forms) != 1:
            raise ValueError("give exactly one of values: [...], low/high (a range) or follows: KEY; got "
                             + (" and ".join(forms) if forms else "none"))
        if self.values is not None and not self.values:
            raise ValueError("values: give at least one value")
        if has_range:
            if self.low is None or self.high is None:
                raise ValueError("a range needs both low and high")
            if self.low > self.high:
                raise ValueError(f"low ({self.low}) is above high ({self.high})")
            if self.log and self.low <= 0:
                raise ValueError(f"a log range needs low > 0, got {self.low}")
            if self.step is not None and (self.step <= 0 or (self.log and self.step <= 1)):
                raise ValueError("step must be positive (a factor above 1 with log: true)")
        elif self.log or self.step is not None:
            raise ValueError("log and step apply to a range (low/high)")
        if self.follows is None and (self.times != 1 or self.plus != 0):
            raise ValueError("times and plus apply with follows")
        return self

    @property
    def is_range(self) -> bool:
        return self.low is not None


class PruneEntry(BaseModel):
    """A pruning scheme and how to apply it, as `accelsim lower --prune --criterion --schedule --fine-tune-epochs`
    take them; in YAML a bare scheme string stands for {scheme: SCHEME}."""

    model_config = _STRICT

    scheme: str
    """A pruning scheme (`accelsim list`), e.g. global:0.9, nm:2:4."""
    criterion: str = "magnitude"
    """How weights are ranked: magnitude, random, taylor, snip, grasp, synflow."""
    schedule: str = "oneshot"
    """When to prune: oneshot, iterative:K, lr-rewind:K, gradual, lottery:K, at-init."""
    fine_tune_epochs: int | None = Field(None, ge=0)
    """Epochs of fine-tuning on the model's own data after pruning (models with data only)."""


def _prune_entries(value: Any) -> Any:
    """A bare scheme string or a list of schemes and entries, each a string or a mapping."""
    items = [value] if isinstance(value, str | dict) else value
    return [{"scheme": item} if isinstance(item, str) else item for item in items] \
        if isinstance(items, list) else items


class ModelEntry(BaseModel):
    """One model of the sweep; in YAML a bare name stands for {model: NAME}."""

    model_config = _STRICT

    model: str
    """A zoo model (digits-cnn, resnet18, ...), a layer table (eie-benchmark, a CSV) or a folder written by
    `accelsim lower -o`. Paths are relative to the spec file."""
    input: str | None = None
    """Example input shape of a zoo model, e.g. 16x1x8x8 (default: the model's own)."""
    seed: int | None = None
    """Seed of this model's weights, input, random pruning and synthetic patterns (default: the spec's seed)."""
    checkpoint: str | None = None
    """A state_dict to load into a zoo model (loaded with weights_only=True)."""
    layers: list[str] | None = None
    """Simulate only these layers, by name as `accelsim lower` prints them (default: every layer)."""
    prune: list[PruneEntry] | None = None
    """This model's pruning schemes instead of the spec's `prune` (a layer table or workload folder takes none)."""

    @field_validator("prune", mode="before")
    @classmethod
    def _one_scheme(cls, value: Any) -> Any:
        return _prune_entries(value)


class ArchEntry(BaseModel):
    """One arch of the sweep with the overrides to explore, keyed as `--set` takes them."""

    model_config = _STRICT

    arch: str
    """An arch name (`accelsim list`) or a path to a YAML / SCALE-Sim .cfg file (relative to the spec file)."""
    set: dict[str, Axis] = Field(default_factory=dict)
    """Override key (e.g. dataflow.fifo_depth) -> a value, a list of values, a range or a `follows` tie."""

    @field_validator("set", mode="before")
    @classmethod
    def _axis_forms(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {key: axis if isinstance(axis, dict) else {"values": axis if isinstance(axis, list) else [axis]}
                for key, axis in value.items()}


class Search(BaseModel):
    """How points are chosen from the space: every combination, a seeded random sample, or NSGA-II."""

    model_config = _STRICT

    kind: Literal["grid", "random", "nsga2"] = "grid"
    """grid: every combination; random: `samples` distinct points; nsga2: `trials` points chosen by NSGA-II
    (Optuna) to optimise `objectives`."""
    samples: PositiveInt | None = None
    """random: how many distinct points to draw."""
    trials: PositiveInt | None = None
    """nsga2: how many points to evaluate in all."""
    population: PositiveInt | None = None
    """nsga2: points per generation (default 16); a generation runs in parallel."""
    objectives: dict[str, Literal["min", "max"]] | None = None
    """nsga2: result column -> min or max, e.g. {latency_s: min, energy_pj: min, accuracy: max}."""
    seed: int = 0
    """Seed of the random draws and of the NSGA-II sampler."""

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Search:
        needed = {"grid": (), "random": ("samples",), "nsga2": ("trials", "objectives")}[self.kind]
        allowed = {"grid": (), "random": ("samples",), "nsga2": ("trials", "population", "objectives")}[self.kind]
        missing = [name for name in needed if getattr(self, name) is None]
        extra = [name for name in ("samples", "trials", "population", "objectives")
                 if getattr(self, name) is not None and name not in allowed]
        if missing:
            raise ValueError(f"kind {self.kind} needs {', '.join(missing)}")
        if extra:
            raise ValueError(f"{', '.join(extra)} do(es) not apply to kind {self.kind}")
        for name in self.objectives or {}:
            if name not in OBJECTIVE_COLUMNS:
                raise ValueError(f"objective {name!r} is not a result column.{did_you_mean(name, OBJECTIVE_COLUMNS)}"
                                 f" Columns: {', '.join(OBJECTIVE_COLUMNS)}")
        if self.objectives is not None and not self.objectives:
            raise ValueError("objectives: name at least one result column")
        return self


class SweepSpec(BaseModel):
    model_config = _STRICT

    name: str | None = None
    """A name for the sweep (shown in its output)."""
    description: str | None = None
    seed: int = 0
    """Default seed of every model (weights, example input, random pruning, synthetic patterns)."""
    models: list[ModelEntry] = Field(min_length=1)
    prune: list[PruneEntry] = Field(default_factory=lambda: [PruneEntry(scheme="none")])
    """Pruning schemes applied to every zoo model (see `accelsim list`), unless a model names its own; each a scheme
    string or {scheme, criterion, schedule, fine_tune_epochs}."""
    archs: list[ArchEntry] = Field(min_length=1)
    search: Search = Field(default_factory=Search)

    @field_validator("models", mode="before")
    @classmethod
    def _bare_names(cls, value: Any) -> Any:
        return [{"model": item} if isinstance(item, str) else item for item in value] \
            if isinstance(value, list) else value

    @field_validator("prune", mode="before")
    @classmethod
    def _one_scheme(cls, value: Any) -> Any:
        return _prune_entries(value)


def load_sweep_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec file (the names it holds are checked by `accelsim.dse.space.build_space`)."""
    path = Path(path)
    try:
        raw = read_yaml_mapping(path, expected_keys="models, prune, archs, search")
    except ArchError as error:
        raise SweepSpecError(str(error)) from None
    return spec_from_dict(raw, source=str(path))


def spec_from_dict(raw: dict, source: str = "<sweep spec>") -> SweepSpec:
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as error:
        raise SweepSpecError(f"{source}: invalid sweep spec:\n  "
                             + "\n  ".join(describe_errors(error, SweepSpec))) from None
