"""Pieces several dataflows use: a layer as GEMMs (`gemm_view`), weight sharing (`weight_sharing`), and the
refusal of operands a dataflow cannot hold (`operands`)."""
