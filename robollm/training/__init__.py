"""Training jobs behind `robollm train ...`, and the synthetic data they learn from."""
