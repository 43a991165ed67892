"""Eyeriss v2 (sparse, hierarchical mesh) and Eyeriss v1 (its dense predecessor): row-stationary machines walked on
the real nonzeros (docs/eyeriss.md)."""

from accelsim.dataflows.eyeriss.dataflow import EyerissV1, EyerissV2

__all__ = ["EyerissV1", "EyerissV2"]
