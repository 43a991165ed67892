"""Dataflows: one folder per accelerator (its Config, mapping, cost model, numba functions in `jit.py`, and the stall
causes and metrics it reports), helpers they share in `shared/`, the contract in `registry`, and the lookup of every
dataflow by name (built-in, entry point or user file) in `catalog`. Importing this package imports no dataflow."""
