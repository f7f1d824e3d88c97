"""A run: plan it, compute each signal, finish it; locally in one process or as Durable activities."""
