"""Photo processing and storage helpers (framework-free)."""
