"""Devices domain."""
