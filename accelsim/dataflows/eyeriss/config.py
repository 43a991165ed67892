"""The YAML parameters of the two Eyeriss dataflows (`dataflow:` in arch_configs/eyeriss-v2.yaml, eyeriss-v1.yaml).

Sizes of the scratch pads, buffers and port widths are the arch's (memory levels and NoC components); these are the
dataflow's choices. Every choice the papers leave open is a field here, and docs/eyeriss.md says why its default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NocMode = Literal["auto", "unicast", "grouped_multicast", "interleaved_multicast", "broadcast"]
"""How one data type reaches the PEs (Eyeriss v2, Section III-B). auto: one transfer per domain (PE cluster) for
each distinct datum its PEs need, i.e. the multicast the mapping allows, labelled by its pattern. unicast: one
transfer per PE that needs it (no reuse over the NoC). grouped_multicast / interleaved_multicast: one transfer per
cluster, as auto (the two name which PEs share; the cost is the same). broadcast: every distinct datum passes
every cluster's ports, needed there or not."""

_STRICT = ConfigDict(extra="forbid", frozen=True)


class NocModes(BaseModel):
    model_config = _STRICT

    iact: NocMode = "auto"
    """Input activations, GLB -> PE."""
    weight: NocMode = "auto"
    """Weights, DRAM -> PE weight scratch pads (Eyeriss v2 keeps no weights in the GLB)."""


class NocModesByLayer(BaseModel):
    """The NoC mode of each data type, per kind of layer (the HM-NoC is set per layer)."""

    model_config = _STRICT

    conv: NocModes = NocModes()
    depthwise: NocModes = NocModes()
    pointwise: NocModes = NocModes()
    fc: NocModes = NocModes()


Spread = Literal["blocks", "rows"]
"""How a layer's output-channel blocks share the chain slots. blocks: each slot keeps one block's weights while it
walks the rows, blocks side by side (several slots per block when there are fewer blocks than slots). rows: every
slot of a phase holds the same block (its weights broadcast), the rows and columns cut between the slots, the
blocks one after another."""


class SpreadByLayer(BaseModel):
    """The spread of each kind of layer; the defaults follow the paper's use of the NoC (Section III-B): depthwise
    layers broadcast one channel's weights to all PEs, each with its own iacts; conv, pointwise and FC layers keep
    different weights in different PEs (FC: weights unicast, iacts broadcast)."""

    model_config = _STRICT

    conv: Spread = "blocks"
    depthwise: Spread = "rows"
    pointwise: Spread = "blocks"
    fc: Spread = "blocks"


class V2Config(BaseModel):
    model_config = _STRICT

    iact_format: Literal["auto", "csc", "uncompressed"] = "auto"
    """csc: the PE reads only nonzero iacts (a zero costs no cycle). uncompressed: every iact is read, zeros and
    padded borders included (the address scratch pads gated). auto: csc, except for a layer whose input holds no
    zero (the image), which is delivered uncompressed as the paper allows when sparsity is low."""
    weight_format: Literal["csc", "uncompressed"] = "csc"
    """csc: a column's stored entries are its nonzero weights (and padding entries for zero runs over the count
    field). uncompressed: every weight of the column is read, zeros included."""
    simd_width: int = Field(2, ge=1, le=8)
    """Weights per cycle that share one iact (the paper's SIMD-2); an odd count pads a lane. Must equal
    pe_array.macs_per_pe."""
    pipeline_depth: int = Field(7, ge=2, le=32)
    """The PE's pipeline stages (2 iact fetch, 3 weight fetch, 2 MAC). The two rates are walked; the other stages
    add depth - 2 cycles of fill per job."""
    fetch_buffer: int = Field(1, ge=1, le=16)
    """Fetched iacts that may wait for the weight stage (ours: one pipeline register)."""
    count_bits: int = Field(4, ge=1, le=8)
    """Zero-run count of a CSC entry (4-bit count + 8-bit data = 12-bit pair); a longer run in a weight column
    costs a padding entry: scratch-pad space and a MAC slot."""
    weight_address_bits: int = Field(7, ge=1, le=16)
    """Bits of one entry of the weight address vector (the paper's 16 x 7 b scratch pad)."""
    weight_tile_policy: Literal["fit_every_tile", "split"] = "fit_every_tile"
    """How M0 (output channels per PE) is chosen. fit_every_tile: the largest M0 (at most the psum scratch pad and
    `m0`) at which every compressed weight tile of the layer fits the weight scratch pad (the weights are known
    offline). split: M0 = min(psum scratch pad, m0); a block whose tile does not fit is split into consecutive
    sub-blocks that do, each streaming the same iacts again."""
    m0: int | None = Field(None, ge=1, le=1024)
    """Upper bound on M0; None: the psum scratch pad's entries / psum_positions."""
    psum_positions: int = Field(2, ge=1, le=32)
    """Output positions of psums the psum scratch pad holds at once (M0 <= entries / psum_positions): with 2, one
    position's psums drain down the chain while the next accumulates; with 1 (M0 up to 32, the paper's bound)
    each position waits for the previous one's drain."""
    cluster_rows: int = Field(3, ge=1)
    """PE rows of one PE cluster (an iact NoC domain)."""
    cluster_cols: int = Field(4, ge=1)
    """PE columns of one PE cluster; one weight router serves one PE row of a cluster."""
    iact_ports_per_cluster: int = Field(3, ge=1)
    """Iact routers feeding one PE cluster (each a components.iact_noc.width_bits port)."""
    noc_modes: NocModesByLayer = NocModesByLayer()
    """NoC mode of iacts and weights per kind of layer (conv, depthwise, pointwise, fc)."""
    spread: SpreadByLayer = SpreadByLayer()
    """How each kind of layer shares the chain slots between its output-channel blocks."""


class V1Config(BaseModel):
    model_config = _STRICT

    psum_positions: int = Field(1, ge=1, le=24)
    """Output positions of psums the psum scratch pad holds at once (M0 <= 24 / psum_positions). v1's PE adds the
    psum from above as it passes (JSSC 2017); ours: one position at a time, as its 24 entries hold p filters."""
    pipeline_depth: int = Field(2, ge=1, le=32)
    """Cycles a MAC takes through the PE's pipeline beyond the one walked (the JSSC paper's PE is not described to
    the stage; ours: a two-stage MAC)."""
    gate_zero_iacts: bool = True
    """A zero ifmap value skips its filter read and MAC (data gating: energy only, the cycle is still spent)."""
    rlc_dram: bool = True
    """Activations read from DRAM run-length coded (5-bit run + 16-bit value); False: 16 bits each."""
    run_bits: int = Field(5, ge=1, le=16)
    """Zero-run field of the RLC in DRAM."""
    spread: SpreadByLayer = SpreadByLayer()
    """How each kind of layer shares the chain slots between its output-channel blocks (RS: a PE set per filter;
    as Eyeriss v2's defaults)."""
