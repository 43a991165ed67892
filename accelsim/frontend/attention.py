"""Attention, decomposed into the GEMMs an accelerator runs: Q/K/V projections (linear), QK^T and AV (matmul,
both operands activations), output projection (linear). The model's own function still computes the model's
output; this module only records the operands, computed the same way torch computes them."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from accelsim.frontend.recorder import LayerRecorder


def scaled_dot_product(recorder: LayerRecorder, query, key, value, attn_mask=None, dropout_p=0.0,
                       is_causal=False, scale=None, enable_gqa=False) -> None:
    """Records `attention_scores` (Q @ K^T) and `attention_values` (softmax(...) @ V) as F.scaled_dot_product_attention
    defines them; dropout is ignored (lowering runs in eval mode)."""
    if enable_gqa and key.shape[-3] != query.shape[-3]:
        repeat = query.shape[-3] // key.shape[-3]
        key, value = key.repeat_interleave(repeat, dim=-3), value.repeat_interleave(repeat, dim=-3)
    batch = torch.broadcast_shapes(query.shape[:-2], key.shape[:-2])
    query, key = query.expand(*batch, *query.shape[-2:]), key.expand(*batch, *key.shape[-2:])
    value = value.expand(*batch, *value.shape[-2:])
    key_t = key.transpose(-2, -1)
    recorder.add_matmul(query, key_t, kind="attention_scores")
    scores = (query @ key_t) * (1.0 / math.sqrt(query.shape[-1]) if scale is None else scale)
    if is_causal:
        length, source = scores.shape[-2:]
        keep = torch.ones(length, source, dtype=torch.bool, device=scores.device).tril()
        scores = scores.masked_fill(~keep, float("-inf"))
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool \
            else scores + attn_mask
    probabilities = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # fully masked rows: zeros, as torch gives
    recorder.add_matmul(probabilities, value, kind="attention_values")


def multi_head(recorder: LayerRecorder, query, key, value, embed_dim_to_check, num_heads, in_proj_weight,
               in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
               training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
               use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None, v_proj_weight=None,
               static_k=None, static_v=None, average_attn_weights=True, is_causal=False) -> None:
    """Records nn.MultiheadAttention's GEMMs. Inputs are sequence-first, (L, B, E) or unbatched (L, E)."""
    if bias_k is not None or add_zero_attn or static_k is not None or static_v is not None:
        recorder.skip("multi_head_attention", "MultiheadAttention with bias_k/bias_v, add_zero_attn or "
                                              "static_k/static_v is not decomposed by accelsim")
        return
    unbatched = query.dim() == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
    length, batch, embed = query.shape
    head_dim = embed // num_heads
    if use_separate_proj_weight:
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        weights = in_proj_weight.chunk(3)
    biases = in_proj_bias.chunk(3) if in_proj_bias is not None else (None, None, None)
    if not use_separate_proj_weight and query is key and key is value:
        # Self-attention runs the packed projection as one GEMM with a (3E, E) weight.
        recorder.add_linear(query, in_proj_weight, kind="in_proj")
        q, k, v = F.linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
    else:
        for kind, tensor, weight in zip(("q_proj", "k_proj", "v_proj"), (query, key, value), weights, strict=True):
            recorder.add_linear(tensor, weight, kind=kind)
        q, k, v = (F.linear(t, w, b) for t, w, b in zip((query, key, value), weights, biases, strict=True))

    def heads(tensor: torch.Tensor) -> torch.Tensor:  # (L, B, E) -> (B*H, L, head_dim), as torch reshapes
        return tensor.reshape(tensor.shape[0], batch * num_heads, head_dim).transpose(0, 1)

    q, k, v = heads(q) * (1.0 / math.sqrt(head_dim)), heads(k), heads(v)
    recorder.add_matmul(q, k.transpose(1, 2), kind="attention_scores")
    # torch computes the per-head attention probabilities (masks included) when asked for them.
    _, probabilities = F.multi_head_attention_forward(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, None, None, False, 0.0,
        out_proj_weight, out_proj_bias, training=False, key_padding_mask=key_padding_mask, need_weights=True,
        attn_mask=attn_mask, use_separate_proj_weight=use_separate_proj_weight, q_proj_weight=q_proj_weight,
        k_proj_weight=k_proj_weight, v_proj_weight=v_proj_weight, average_attn_weights=False,
        is_causal=is_causal and attn_mask is not None)
    probabilities = probabilities.reshape(batch * num_heads, length, -1)
    recorder.add_matmul(probabilities, v, kind="attention_values")
    context = (probabilities @ v).transpose(0, 1).reshape(length * batch, embed)
    recorder.add_linear(context, out_proj_weight, kind="out_proj")
