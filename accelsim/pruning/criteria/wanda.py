"""`wanda` (Sun et al. 2023, "A Simple and Effective Pruning Approach for Large Language Models"): score
|W_ij| x ||X_j||_2, the weight's magnitude times the L2 norm of the input feature it multiplies over every row of a
calibration run, compared within each output row (the paper's per-output comparison group) under `unstructured:S`,
and within each group of m along the row under `nm:N:M`. No gradients, no retraining, no weight update.

Calibration activations: the lowering's own sample input (the seeded example input `accelsim lower` runs the model
on; `--seed` picks it), run once under the lowering's capture (accelsim/frontend/calibration.py), so a conv's norm
is over its im2col columns (padding zeros included) and an LSTM's recurrent norm over its real hidden states at
every step. The paper calibrates on 128 sequences of 2048 tokens of C4; a zoo model's sample input is random
tokens or noise, so the ranking is Wanda's rule on those activations, not on natural data. Other structures
(global, erk, block, channel, han2015) rank by the same scores as by any criterion (scores.py), without the
per-row comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from accelsim.pruning.criteria.base import Criterion, ScoringContext
from accelsim.pruning.errors import PruningError
from accelsim.pruning.scores import LayerScores
from accelsim.pruning.targets import PrunableWeight


class Wanda(Criterion):
    name: ClassVar[str] = "wanda"
    syntax: ClassVar[str] = "wanda"
    summary: ClassVar[str] = ("|w| x ||x||_2 of its input feature on the sample input, compared per output row "
                              "(Sun et al. 2023; LLMs)")

    def scores(self, context: ScoringContext, weights: Sequence[PrunableWeight]) -> dict[str, LayerScores]:
        from accelsim.frontend.calibration import input_norms

        if context.example_input is None:
            raise PruningError("wanda weighs each weight by the norm of its input activations, which needs a "
                               "calibration input: pass ScoringContext(model, example_input=...) (accelsim lower "
                               "uses the model's sample input)")
        norms = input_norms(context.model, context.example_input, weights)
        return {w.name: LayerScores(w.tensor.abs().to(norms[w.name].dtype) * norms[w.name], within_rows=True)
                for w in weights}
