"""`prune(model, scheme, criterion, context)`: one pruning of a model, the step every schedule takes.

The criterion scores the weights on the model as it is (zeros already there count as pruned), `apply` writes the
scheme's masks. A criterion with several rounds (SynFlow) prunes in that many steps along the exponential schedule
density^(i/rounds), rescoring the pruned network each time; the last step is the scheme itself, so the target is
met exactly. The report's "before" counts are those before the first step.
"""

from __future__ import annotations

from dataclasses import replace

from torch import nn

from accelsim.pruning.apply import apply
from accelsim.pruning.base import SchemeBase
from accelsim.pruning.criteria import Criterion, Magnitude, ScoringContext
from accelsim.pruning.errors import PruningError
from accelsim.pruning.report import PruneReport
from accelsim.pruning.targets import find_prunable_weights


def check_criterion(scheme: SchemeBase, criterion: Criterion) -> None:
    """A scheme that ranks by its own rule takes no criterion (the default, magnitude, is ignored for it)."""
    if not scheme.ranks_by_criterion and not isinstance(criterion, Magnitude):
        raise PruningError(f"scheme {scheme.text!r} ranks weights by its own rule, so --criterion {criterion.text} "
                           f"does not apply; for random ranking with a structure use e.g. unstructured:<sparsity> "
                           f"--criterion random")


def intermediate_sparsity(target: float, fraction: float) -> float:
    """The exponential schedule's sparsity a `fraction` of the way: 1 - (1 - target)^fraction."""
    return 1.0 - (1.0 - target) ** fraction


def prune(model: nn.Module, scheme: SchemeBase, criterion: Criterion | None = None,
          context: ScoringContext | None = None) -> PruneReport:
    """Prune `model` in place by `scheme`, ranked by `criterion` (default magnitude)."""
    criterion = criterion or Magnitude()
    check_criterion(scheme, criterion)
    if not scheme.ranks_by_criterion:
        return apply(model, scheme)
    context = context or ScoringContext(model)
    rounds = criterion.rounds if scheme.target_sparsity is not None else 1
    first = None
    for step in range(1, rounds + 1):
        step_scheme = scheme if step == rounds else scheme.with_sparsity(
            intermediate_sparsity(scheme.target_sparsity, step / rounds))
        weights = find_prunable_weights(model, scheme.exclude)
        for weight in weights:
            weight.fold_live_mask()  # gradient criteria differentiate the plain parameter
        chosen = [w for w in weights if not w.excluded]
        # magnitude's scores are what every structure ranks by without scores: skip computing and checking a copy
        scores = None if isinstance(criterion, Magnitude) else criterion.scores(context, chosen)
        report = apply(model, step_scheme, scores)
        first = first or report
    rows = tuple(replace(row, nonzeros_before=before.nonzeros_before)
                 for row, before in zip(report.rows, first.rows, strict=True))
    return PruneReport(report.scheme, rows)
