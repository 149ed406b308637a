"""Shared test helpers (throwaway PostgreSQL server and friends)."""
