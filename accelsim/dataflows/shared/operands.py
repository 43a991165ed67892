"""What a dataflow may refuse about a layer's operands, said the same way by every dataflow."""

from __future__ import annotations

from accelsim.workload import Layer


class UnsupportedLayerError(ValueError):
    """A layer a dataflow cannot run; the message names the layer, why, and what to do instead."""


def refuse_activation_product(layer: Layer, accelerator: str, why: str) -> None:
    """Raise when `layer` multiplies two activations (attention's QK^T and AV: a matmul whose right operand is not
    a weight known before inference). `why` says what the accelerator needs to do offline with its weights."""
    if layer.op == "matmul" and not layer.weight_is_static:
        raise UnsupportedLayerError(
            f"layer {layer.name!r}: {accelerator} cannot run a product of two activations (matmul with a dynamic "
            f"right operand, as in attention): {why}. Lower the model without attention products, or use another "
            f"arch")
