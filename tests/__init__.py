"""Test suite for Lägesbild."""
