"""Real kernel timings on GPUs and CPUs: lowered layers as GEMMs, timed under dense and sparse library kernels."""
