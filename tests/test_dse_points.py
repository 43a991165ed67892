"""Points of a sweep: ids that change with every input and nothing else, grids, random samples and axis values
worked out by hand."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from dse_helpers import space_of, sweep_folder

from accelsim.arch_configs import REPOSITORY_ARCHS
from accelsim.dse import axes
from accelsim.dse.points import Point, grid_points, random_points
from accelsim.dse.pruning_choice import PruningChoice
from accelsim.dse.spec import Axis

SPEC = """
models: [{model: tiny.csv, prune: none}, {model: digits-cnn, input: 4x1x8x8}]
prune: [none, "nm:2:4"]
archs:
  - {arch: systolic-32x32-ws, set: {pe_array.rows: [8, 16, 32], dataflow.stationary: [ws, os]}}
  - {arch: eie}
"""


@pytest.fixture
def space(tmp_path):
    return space_of(sweep_folder(tmp_path, SPEC))


def test_a_grid_is_every_combination_once(space):
    points = grid_points(space)
    # tiny.csv takes none only, digits-cnn two schemes: 3 (model, scheme) pairs x (3 x 2 systolic + 1 eie)
    assert len(points) == 3 * (3 * 2 + 1) == len({point.id for point in points})
    first = points[0]
    assert (first.model.name, first.pruning.label, first.arch.name) == ("tiny.csv", "none", "systolic-32x32-ws")
    assert dict(first.overrides) == {"dataflow.stationary": "ws", "pe_array.rows": 8}
    assert first.override_args == ('dataflow.stationary="ws"', "pe_array.rows=8")


def test_the_id_follows_each_input_and_nothing_else(space):
    point = grid_points(space)[0]
    same = Point(point.model, point.pruning, point.arch, tuple(reversed(point.overrides)), search_index=7)
    assert same.id == point.id  # order of overrides and the search that proposed it do not matter
    other_model, other_arch = space.models[1], space.archs[1]
    changed = [Point(other_model, point.pruning, point.arch, point.overrides),
               Point(point.model, PruningChoice("nm:2:4"), point.arch, point.overrides),
               Point(point.model, PruningChoice(point.pruning.scheme, fine_tune_epochs=1), point.arch, point.overrides),
               Point(point.model, point.pruning, other_arch, point.overrides),
               Point(point.model, point.pruning, point.arch, (("dataflow.stationary", "ws"), ("pe_array.rows", 16)))]
    assert len({point.id, *(p.id for p in changed)}) == 6


def test_a_changed_arch_file_changes_the_id(tmp_path):
    shutil.copy(REPOSITORY_ARCHS / "systolic-32x32-ws.yaml", tmp_path / "mine.yaml")
    spec = "models: [{model: tiny.csv}]\narchs: [{arch: mine.yaml}]\n"
    before = grid_points(space_of(sweep_folder(tmp_path, spec)))[0]
    with open(tmp_path / "mine.yaml", "a") as handle:
        handle.write("\n# an edit\n")
    after = grid_points(space_of(sweep_folder(tmp_path, spec)))[0]
    assert before.id != after.id and before.lowering_key == after.lowering_key


def test_archs_naming_the_same_point_are_one_point(tmp_path):
    spec = ("models: [tiny.csv]\narchs: [{arch: systolic-32x32-ws, set: {pe_array.rows: [16, 32]}}, "
            "{arch: systolic-32x32-ws, set: {pe_array.rows: 32}}]\n")
    space = space_of(sweep_folder(tmp_path, spec))
    assert len(grid_points(space)) == 2


def test_points_of_one_model_and_scheme_share_their_lowering(space):
    points = grid_points(space)
    assert len({point.lowering_key for point in points}) == 3


def test_random_points_are_distinct_seeded_and_inside_their_ranges(tmp_path):
    spec = ("models: [tiny.csv]\narchs: [{arch: systolic-32x32-ws, set: {pe_array.rows: {low: 2, high: 64, log: true},"
            " pe_array.cols: {low: 1, high: 9}}}]\nsearch: {kind: random, samples: 20, seed: 4}\n")
    space = space_of(sweep_folder(tmp_path, spec))
    points = random_points(space, 20, 4)
    assert len(points) == 20 == len({point.id for point in points})
    assert [p.id for p in points] == [p.id for p in random_points(space, 20, 4)]
    assert [p.id for p in points] != [p.id for p in random_points(space, 20, 5)]
    for point in points:
        values = dict(point.overrides)
        assert 2 <= values["pe_array.rows"] <= 64 and 1 <= values["pe_array.cols"] <= 9
        assert all(isinstance(value, int) for value in values.values())


def test_a_random_search_of_a_small_space_returns_all_of_it(tmp_path):
    spec = ("models: [tiny.csv]\narchs: [{arch: systolic-32x32-ws, set: {pe_array.rows: [8, 16, 32]}}]\n"
            "search: {kind: random, samples: 10}\n")
    space = space_of(sweep_folder(tmp_path, spec))
    assert len(random_points(space, 10, 0)) == 3


@pytest.mark.parametrize(("axis", "values"), [
    (Axis(values=[3, "ws", None]), [3, "ws", None]),
    (Axis(low=1, high=256, log=True, step=2), [1, 2, 4, 8, 16, 32, 64, 128, 256]),
    (Axis(low=0, high=1, step=0.25), [0.0, 0.25, 0.5, 0.75, 1.0]),
    (Axis(low=4, high=20, step=8), [4, 12, 20]),
    (Axis(low=0.1, high=0.3, step=0.1), [0.1, 0.2, 0.30000000000000004]),  # float steps accumulate; high included
    (Axis(low=1, high=8), None),
])
def test_axis_values_by_hand(axis, values):
    assert axes.discrete_values(axis) == values


def test_an_integer_log_range_draws_every_value_it_covers():
    rng = np.random.default_rng(0)
    drawn = {axes.sample(Axis(low=1, high=8, log=True), rng) for _ in range(2000)}
    assert drawn == set(range(1, 9))


def test_a_tie_is_times_the_followed_value_plus_an_offset():
    assert axes.tied_value(Axis(follows="x", times=2, plus=1), 8) == 17
    assert axes.tied_value(Axis(follows="x", times=0.5), 8) == 4.0
    with pytest.raises(ValueError, match="not a number"):
        axes.tied_value(Axis(follows="x"), "ws")
