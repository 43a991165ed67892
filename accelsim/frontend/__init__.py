"""Front end: torch models -> Workload (lowering), the model zoo, synthetic and SCALE-Sim workloads."""
