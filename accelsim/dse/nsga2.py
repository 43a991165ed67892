"""Multi-objective search with NSGA-II (Optuna's sampler, through ask and tell): each generation of `population`
points is asked for, computed in parallel, and told in the order it was asked, so a seeded search proposes the same
points whatever the executor and however long each point takes. A rerun replays the search from its start and
takes every point already in the folder from there: it resumes where the last run stopped, computing only what is
missing.

The search space: which (model, pruning) and which arch entry, as categories, and every free override of every arch
entry (the ones of arch entries not chosen are drawn too and ignored, which keeps the space the same for every
trial, as NSGA-II's crossover wants). Lists are categories, ranges integer or float distributions."""

from __future__ import annotations

import math
from collections.abc import Callable

from accelsim.dse import axes
from accelsim.dse.points import Point
from accelsim.dse.space import Space

DEFAULT_POPULATION = 16


def _pairs(space: Space) -> list[tuple]:
    return [(model, pruning) for model in space.models for pruning in model.schemes]


def _distributions(space: Space) -> dict:
    from optuna.distributions import CategoricalDistribution

    distributions = {"model_and_scheme": CategoricalDistribution(list(range(len(_pairs(space))))),
                     "arch": CategoricalDistribution(list(range(len(space.archs))))}
    for arch in space.archs:
        for key, axis in arch.free.items():
            distributions[f"archs.{arch.index}.{key}"] = axes.optuna_distribution(axis)
    return distributions


def _point(space: Space, params: dict, number: int) -> Point:
    model, pruning = _pairs(space)[params["model_and_scheme"]]
    arch = space.archs[params["arch"]]
    chosen = {key: params[f"archs.{arch.index}.{key}"] for key in arch.free}
    return Point(model, pruning, arch, tuple(arch.overrides(chosen).items()), search_index=number)


def objective_values(row: dict, objectives: dict[str, str]) -> list[float] | None:
    """The row's objectives, or None when it failed or lacks one (told to Optuna as a failed trial)."""
    if row.get("status") != "ok":
        return None
    values = [row.get(column) for column in objectives]
    if any(value is None or not math.isfinite(value) for value in values):
        return None
    return [float(value) for value in values]


def nsga2_points(space: Space, rows_of: Callable[[list[Point]], dict[str, dict]]) -> list[Point]:
    """Run the search; `rows_of(points)` returns the row of each point by id (computing the missing ones). Every
    point the search asked for, once each, in order."""
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    search = space.spec.search
    population = search.population or DEFAULT_POPULATION
    sampler = optuna.samplers.NSGAIISampler(seed=search.seed, population_size=population)
    directions = ["minimize" if direction == "min" else "maximize" for direction in search.objectives.values()]
    study = optuna.create_study(directions=directions, sampler=sampler)
    distributions = _distributions(space)
    asked: dict[str, Point] = {}
    while len(study.trials) < search.trials:
        size = min(population, search.trials - len(study.trials))
        trials = [study.ask(distributions) for _ in range(size)]
        points = [_point(space, trial.params, trial.number) for trial in trials]
        for point in points:
            asked.setdefault(point.id, point)
        rows = rows_of([asked[point_id] for point_id in dict.fromkeys(point.id for point in points)])
        for trial, point in zip(trials, points, strict=True):
            values = objective_values(rows[point.id], search.objectives)
            if values is None:
                study.tell(trial, state=TrialState.FAIL)
            else:
                study.tell(trial, values)
    return list(asked.values())
