"""A generated cross-border store, signed as Saleor signs it, for the demo and benchmarks."""
