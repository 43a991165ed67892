"""The dense systolic array (SCALE-Sim's output, weight and input stationary timing) with an N:M mode."""

from accelsim.dataflows.systolic.dataflow import Systolic

__all__ = ["Systolic"]
