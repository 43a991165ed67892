"""EIE (Han et al., ISCA 2016): sparse matrix x sparse vector on N PEs behind one activation broadcast."""

from accelsim.dataflows.eie.dataflow import EIE

__all__ = ["EIE"]
