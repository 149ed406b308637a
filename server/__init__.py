"""Lägesbild server."""
