"""The åtgärdsplan: actions decided on reports and incidents, followed until done."""
