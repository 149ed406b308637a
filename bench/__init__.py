"""Benchmarks for Lägesbild (run by hand; see bench/README.md)."""
