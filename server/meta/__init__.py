"""Meta domain."""
