"""DCNN: the SCNN paper's dense baseline, 1,024 multipliers with a dense output-stationary loop nest of its own."""

from accelsim.dataflows.dcnn.dataflow import DCNN

__all__ = ["DCNN"]
