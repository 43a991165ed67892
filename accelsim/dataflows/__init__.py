"""Dataflows, one module each. Every module is imported here by name (a file never imported is never registered;
tests/test_registry.py checks that this list and the folder agree)."""

from accelsim.dataflows import eie, gpu, scnn, systolic  # noqa: F401
