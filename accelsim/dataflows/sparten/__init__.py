"""SparTen: clusters of inner-join compute units on bitmask chunks, with greedy balancing; its dense twin and the
one-sided design are the same dataflow with sparsity "none" and "weights"."""

from accelsim.dataflows.sparten.dataflow import SparTen

__all__ = ["SparTen"]
