"""Every numba `@njit` function of accelsim: module-level functions over numpy arrays and scalars only."""
