"""Names of the allocation policies (a light module: the CLI reads it for ``--help`` without importing JAX)."""

POLICIES = ("greedy", "uniform", "binned", "lagrangian", "sequential")
