"""Schedules on a tiny model and tiny synthetic data (milliseconds of training): every schedule ends at exactly the
target sparsity, masks stay applied through training, the same seed gives the same masks and accuracy, and bad
combinations are refused before any work."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from accelsim.frontend.training import LabelledData, MaskViolation, Recipe, TrainingSetup, check_masks, train
from accelsim.pruning import PruningError, parse_scheme
from accelsim.pruning.criteria import parse_criterion
from accelsim.pruning.schedules import PruningJob, parse_schedule
from accelsim.pruning.schedules.gradual import cubic_sparsity
from accelsim.pruning.selection import kept_count


def _tiny_data() -> LabelledData:
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(96, 1, 4, 4, generator=generator)
    labels = (images.mean(dim=(1, 2, 3)) > 0.5).long() + 2 * (images[:, 0, 0, 0] > 0.5).long()
    return LabelledData(images[:64], labels[:64], images[64:], labels[64:])


def _init(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(128, 16), nn.ReLU(),
                         nn.Linear(16, 4))


def _setup(seed: int = 0) -> TrainingSetup:
    return TrainingSetup(_tiny_data(), Recipe(epochs=2, lr=1e-2, batch_size=16), lambda: _init(seed), seed)


def _trained(seed: int = 0) -> nn.Module:
    setup = _setup(seed)
    return train(setup.init(), setup.data, epochs=2, lr=1e-2, seed=seed, batch_size=16)


def _run(scheme: str, schedule: str, criterion: str = "magnitude", seed: int = 0, epochs: int | None = 1):
    job = PruningJob(_trained(seed), parse_scheme(scheme), parse_criterion(criterion), _setup(seed), epochs,
                     torch.zeros(1, 1, 4, 4), seed)
    return parse_schedule(schedule).run(job)


def _nonzeros(model: nn.Module) -> list[int]:
    return [int(torch.count_nonzero(m.weight)) for m in model if isinstance(m, nn.Conv2d | nn.Linear)]


SIZES = [72, 2048, 64]
SCHEDULES = ["oneshot", "iterative:3", "lr-rewind:2", "gradual:3", "lottery:2", "lottery:2:rewind=1", "at-init"]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_schedule_ends_at_exactly_the_target_per_layer(schedule):
    result = _run("unstructured:0.7", schedule)
    assert _nonzeros(result.model) == [kept_count(0.3, size) for size in SIZES]
    assert [row.nonzeros_after for row in result.report.rows] == [kept_count(0.3, size) for size in SIZES]


@pytest.mark.parametrize(("scheme", "criterion"), [("global:0.8", "snip"), ("erk:0.8", "synflow:iterations=3"),
                                                   ("global:0.8", "grasp"), ("global:0.8", "taylor")])
def test_global_and_erk_targets_are_met_exactly_with_any_criterion(scheme, criterion):
    result = _run(scheme, "iterative:2", criterion)
    assert sum(_nonzeros(result.model)) == kept_count(0.2, sum(SIZES))


def test_structured_targets_hold_through_training():
    result = _run("channel:0.5", "iterative:2")
    assert [int(m.weight.detach().reshape(m.weight.shape[0], -1).any(dim=1).sum()) for m in result.model
            if isinstance(m, nn.Conv2d | nn.Linear)] == [4, 8, 2]
    result = _run("nm:2:4", "gradual:2")
    linear = result.model[3].weight.detach().reshape(-1, 4)
    assert bool(((linear != 0).sum(dim=1) <= 2).all())


def test_each_round_records_its_sparsity_and_accuracy():
    result = _run("unstructured:0.7", "iterative:3")
    assert [record["round"] for record in result.rounds] == [1, 2, 3]
    sparsities = [record["sparsity"] for record in result.rounds]
    assert sparsities == sorted(sparsities) and sparsities[-1] == pytest.approx(1 - sum(
        kept_count(0.3, size) for size in SIZES) / sum(SIZES))
    assert all(0.0 <= record["test_accuracy"] <= 1.0 for record in result.rounds)


def test_masks_stay_applied_through_training_and_would_not_without_enforcement():
    data = _tiny_data()
    model = _trained()
    with torch.no_grad():
        model[3].weight[:, ::2] = 0.0
    masks = {"3.weight": (model[3].weight != 0).float()}
    train(model, data, epochs=2, lr=1e-2, seed=1, batch_size=16, masks=masks)
    assert int(torch.count_nonzero(model[3].weight[:, ::2])) == 0
    train(model, data, epochs=1, lr=1e-2, seed=1, batch_size=16)  # no masks: Adam revives the pruned weights
    assert int(torch.count_nonzero(model[3].weight[:, ::2])) > 0
    with pytest.raises(MaskViolation, match=r"3\.weight"):
        check_masks(model, masks)


def test_the_same_seed_gives_the_same_masks_and_accuracy_and_another_seed_does_not():
    first = _run("unstructured:0.7", "lottery:2", "random", seed=3)
    again = _run("unstructured:0.7", "lottery:2", "random", seed=3)
    other = _run("unstructured:0.7", "lottery:2", "random", seed=4)
    for a, b in zip(first.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert first.rounds == again.rounds
    assert not torch.equal(first.model[3].weight != 0, other.model[3].weight != 0)


def test_at_init_prunes_the_initialisation_and_lottery_rewinds_to_it():
    init = _init(0)
    result = _run("unstructured:0.7", "at-init", epochs=0)
    kept = result.model[3].weight != 0
    assert torch.equal(result.model[3].weight[kept], init[3].weight[kept])  # untrained: the initial values
    result = _run("unstructured:0.7", "lottery:1", epochs=0)
    kept = result.model[3].weight != 0
    assert torch.equal(result.model[3].weight[kept], init[3].weight[kept])


def test_gradual_follows_zhu_and_gupta_cubic():
    assert cubic_sparsity(0.9, 0, 10) == 0.0 and cubic_sparsity(0.9, 10, 10) == pytest.approx(0.9)
    assert cubic_sparsity(0.8, 5, 10) == pytest.approx(0.8 * (1 - 0.5**3))
    with pytest.raises(PruningError, match="more --fine-tune-epochs"):
        _run("unstructured:0.7", "gradual:50", epochs=1)  # 4 steps an epoch


def test_schedules_parse_and_errors_name_the_syntax():
    assert parse_schedule("lottery:5:rewind=1").text == "lottery:5:rewind=1"
    assert parse_schedule("gradual").text == "gradual:10"
    assert parse_schedule("lr-rewind:3").text == "lr-rewind:3"
    for text, message in (("iterativ:5", "Did you mean 'iterative'"), ("iterative", "rounds"),
                          ("iterative:0", "greater than or equal to 1"), ("oneshot:3", "too many arguments"),
                          ("lottery:2:rewnd=1", "unknown option 'rewnd'")):
        with pytest.raises(PruningError, match=message):
            parse_schedule(text)
