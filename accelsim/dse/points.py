"""A point of a sweep, (model, scheme, arch, overrides), and how a grid or a random search lists them.

A point's id is a hash of everything that decides its numbers: the model's identity (name, input, seed and
checkpoint, or the hash of its CSV or workload folder), the layers simulated, the scheme, the arch's file and its
dense twin's, the overrides, and accelsim's version. Reruns and resumes recognise finished points by it; a point
whose arch file changed gets a new id, so a stale row is never taken for it.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import accelsim
from accelsim.dse import axes
from accelsim.dse.columns import override_column
from accelsim.dse.pruning_choice import PruningChoice
from accelsim.dse.space import ArchChoice, ModelChoice, Space, override_text

ID_LENGTH = 16
_RANDOM_ATTEMPTS_PER_SAMPLE = 100


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Point:
    model: ModelChoice
    pruning: PruningChoice
    arch: ArchChoice
    overrides: tuple[tuple[str, Any], ...]
    """(key, value) sorted by key, tied keys included."""
    search_index: int | None = None
    """The random sample or NSGA-II trial that first proposed the point; None in a grid."""

    @functools.cached_property
    def id(self) -> str:
        return _digest({"model": self.model.identity, "layers": self.model.layers, "prune": self.pruning.label,
                        "arch": self.arch.identity, "set": dict(self.overrides),
                        "accelsim": accelsim.__version__})[:ID_LENGTH]

    @functools.cached_property
    def lowering_key(self) -> str:
        """What the lowered workload depends on (the layers are chosen after lowering)."""
        return _digest({"model": self.model.identity, "prune": self.pruning.label, "accelsim": accelsim.__version__})

    @property
    def override_args(self) -> tuple[str, ...]:
        return tuple(override_text(key, value) for key, value in self.overrides)

    def input_columns(self) -> dict:
        model = self.model
        return {"point_id": self.id, "model": model.name, "input": model.input_text, "seed": model.seed,
                "layers": ",".join(model.layers) if model.layers is not None else None, "prune": self.pruning.label,
                "arch": self.arch.name, "search_index": self.search_index,
                **{override_column(key): value for key, value in self.overrides}}


def grid_points(space: Space) -> list[Point]:
    """Every combination, in spec order (models, their schemes, archs, then each arch's overrides), once each."""
    points = []
    for model in space.models:
        for scheme in model.schemes:
            for arch in space.archs:
                keys = list(arch.free)
                for values in itertools.product(*(axes.discrete_values(arch.free[key]) for key in keys)):
                    overrides = arch.overrides(dict(zip(keys, values, strict=True)))
                    points.append(Point(model, scheme, arch, tuple(overrides.items())))
    return unique(points)


def random_points(space: Space, samples: int, seed: int) -> list[Point]:
    """`samples` distinct points drawn with `seed`: a model, one of its schemes and an arch uniformly, then each
    override from its axis. Fewer when the space holds fewer distinct points (drawing stops after many repeats)."""
    rng = np.random.default_rng(seed)
    found: dict[str, Point] = {}
    for index in range(samples * _RANDOM_ATTEMPTS_PER_SAMPLE):
        if len(found) == samples:
            break
        model = space.models[int(rng.integers(len(space.models)))]
        scheme = model.schemes[int(rng.integers(len(model.schemes)))]
        arch = space.archs[int(rng.integers(len(space.archs)))]
        chosen = {key: axes.sample(axis, rng) for key, axis in arch.free.items()}
        point = Point(model, scheme, arch, tuple(arch.overrides(chosen).items()), search_index=index)
        found.setdefault(point.id, point)
    return list(found.values())


def unique(points: list[Point]) -> list[Point]:
    """The first of each id (two arch entries can name the same point)."""
    found: dict[str, Point] = {}
    for point in points:
        found.setdefault(point.id, point)
    return list(found.values())


def iter_lowerings(points: list[Point]) -> Iterator[Point]:
    """One point per distinct lowering, in order."""
    seen: set[str] = set()
    for point in points:
        if point.lowering_key not in seen:
            seen.add(point.lowering_key)
            yield point
