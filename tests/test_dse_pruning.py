"""Sweep pruning entries: a scheme string, or a scheme with the criterion, schedule and fine-tuning that apply it
(as `accelsim lower` takes them); their labels, their errors, and a lowering that really applies the options."""

from __future__ import annotations

import pytest
from dse_helpers import space_of, sweep_folder

from accelsim.dse.lowering import LoweringTask, lower_workload
from accelsim.dse.pruning_choice import PruningChoice
from accelsim.dse.spec import SweepSpecError, load_sweep_spec
from accelsim.frontend.build import build_workload

SPEC = """
models: [digits-mlp]
prune:
  - none
  - "global:0.5"
  - {scheme: "global:0.5", criterion: snip, schedule: "iterative:2", fine_tune_epochs: 1}
archs: [{arch: systolic-32x32-ws}]
"""


def test_entries_become_choices_with_labels(tmp_path):
    model = space_of(sweep_folder(tmp_path, SPEC)).models[0]
    assert [choice.label for choice in model.schemes] == [
        "none", "global:0.5", "global:0.5 criterion=snip schedule=iterative:2 fine_tune_epochs=1"]
    assert model.schemes[2] == PruningChoice("global:0.5", "snip", "iterative:2", 1)


def test_default_options_leave_the_bare_scheme_as_label():
    # the label is part of a point's id: a plain scheme keeps the id it had before entries existed
    assert PruningChoice("nm:2:4").label == "nm:2:4"
    assert PruningChoice("nm:2:4", fine_tune_epochs=0).label == "nm:2:4 fine_tune_epochs=0"


@pytest.mark.parametrize(("entry", "expected"), [
    ('{scheme: "global:0.5", criterio: snip}', r"prune\.0\.criterio: unknown key\. Did you mean 'criterion'"),
    ('{scheme: "global:0.5", fine_tune_epochs: -1}', r"prune\.0\.fine_tune_epochs"),
    ("{criterion: snip}", r"prune\.0\.scheme"),
])
def test_a_malformed_entry_names_its_key(tmp_path, entry, expected):
    path = sweep_folder(tmp_path, f"models: [digits-mlp]\nprune: [{entry}]\narchs: [{{arch: eie}}]\n")
    with pytest.raises(SweepSpecError, match=expected):
        load_sweep_spec(path)


def test_a_lowering_applies_the_entrys_criterion_schedule_and_fine_tuning():
    choice = PruningChoice("global:0.5", "snip", "iterative:2", 1)
    outcome = lower_workload(LoweringTask("key", "digits-mlp", choice, 0, None, None))
    assert outcome.error is None
    direct = build_workload("digits-mlp", "global:0.5", seed=0, criterion="snip", schedule="iterative:2",
                            fine_tune_epochs=1).workload
    oneshot = build_workload("digits-mlp", "global:0.5", seed=0).workload
    for swept, built in zip(outcome.workload.layers, direct.layers, strict=True):
        assert (swept.weight == built.weight).all()
    assert any((swept.weight != plain.weight).any() for swept, plain in zip(outcome.workload.layers,
                                                                              oneshot.layers, strict=True))
