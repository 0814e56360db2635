"""Reference implementations the benchmarks compare the feature builders with."""
