"""`apply(model, scheme)`: prune a model in place and report every prunable weight.

All decisions are made before anything is written, so a scheme that cannot be applied (han2015 on another
model, a block shape that fits no layer, a layer with NaN weights) raises and leaves the model untouched.
Masks are written into the parameters in place (PrunableWeight.write_mask: what torch.nn.utils.prune's
custom_from_mask and remove leave, without their copies): the zeros end up permanent in the parameter, and live
torch prune masks, also on layers left dense, are folded (prune.remove).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from accelsim.pruning.base import SchemeBase
from accelsim.pruning.errors import PruningError
from accelsim.pruning.no_pruning import NoPruning
from accelsim.pruning.parse import parse_scheme
from accelsim.pruning.report import LayerRow, PruneReport
from accelsim.pruning.scores import LayerScores
from accelsim.pruning.targets import PRUNABLE_TYPES, find_prunable_weights


def apply(model: nn.Module, scheme: SchemeBase | str,
          scores: Mapping[str, LayerScores] | None = None) -> PruneReport:
    """Prune `model` in place by `scheme` (a config, or its CLI text such as "nm:2:4"), ranking by `scores` (a
    criterion's, by weight name; `None`: magnitude). `accelsim.pruning.prune` computes the scores and runs a
    criterion's iterative steps."""
    if isinstance(scheme, str):
        scheme = parse_scheme(scheme)
    weights = find_prunable_weights(model, scheme.exclude)
    if not weights and not isinstance(scheme, NoPruning):
        raise PruningError(
            f"scheme {scheme.text!r} found nothing to prune: the model has no prunable layer ({PRUNABLE_TYPES})."
        )
    for weight in weights:
        if not weight.excluded and _has_nan(weight.tensor):
            raise PruningError(
                f"weight {weight.name!r} contains NaN; magnitude ranks are undefined, so it cannot "
                f"be pruned (exclude it, or fix the weights first)."
            )
    before = {w.name: w.nonzeros for w in weights}
    decisions = scheme.plan(weights, scores)
    _check_something_fits(scheme, decisions)

    rows = []
    for weight in weights:
        decision = "excluded" if weight.excluded else decisions[weight.name]
        if isinstance(decision, str):
            weight.fold_live_mask()
            status = f"left dense: {decision}"
        else:
            weight.write_mask(decision)
            status = "pruned"
        after = weight.nonzeros
        rows.append(LayerRow(weight.name, weight.shape, before[weight.name], after, status))
    label = scheme.text + (f" (exclude: {', '.join(scheme.exclude)})" if scheme.exclude else "")
    return PruneReport(label, tuple(rows))


def _check_something_fits(scheme: SchemeBase, decisions: dict[str, torch.Tensor | str]) -> None:
    """A structured scheme that fits none of the layers it was asked to prune is a mistake, not a result."""
    if isinstance(scheme, NoPruning):
        return
    if not decisions:
        raise PruningError(
            f"scheme {scheme.text!r} has nothing to prune: exclude ({', '.join(scheme.exclude)}) covers every "
            f"prunable layer of the model; use scheme 'none' for a dense run."
        )
    if all(isinstance(d, str) for d in decisions.values()):
        reasons = "; ".join(f"{name}: {reason}" for name, reason in decisions.items())
        raise PruningError(
            f"scheme {scheme.text!r} fits no layer of this model, so it would prune nothing ({reasons}). "
            f"Choose a block or group size that divides the layers' shapes."
        )


def _has_nan(tensor: torch.Tensor) -> bool:
    # The sum is NaN whenever an element is (or infinities cancel): a cheap pass before the exact one.
    return bool(torch.isnan(tensor.sum())) and bool(torch.isnan(tensor).any())
