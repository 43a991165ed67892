"""SCNN (Parashar et al., ISCA 2017): the PT-IS-CP-sparse dataflow, and with zero skipping off its dense twin."""

from accelsim.dataflows.scnn.dataflow import SCNN

__all__ = ["SCNN"]
