"""The errors of `accelsim.pruning`: one paragraph naming what is wrong and what is allowed."""


class PruningError(ValueError):
    """A pruning scheme that is malformed or cannot be applied to this model or tensor."""


class LayerMismatch(PruningError):
    """A structured scheme does not fit one weight's shape.

    On a single tensor this is raised as is; at model level `apply` catches it, leaves the layer dense and lists
    `reason` (a short phrase) in the report, as NVIDIA ASP does for layers whose shapes do not fit."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
