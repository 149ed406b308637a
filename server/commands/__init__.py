"""The `lagesbild` command groups: an edge like the views, calling one service each."""
