"""Sharing agreements: what one organisation lets another see of its reports (EST)."""
