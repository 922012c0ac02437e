"""Inference: the bundle format (reading, writing, building), the Predictor and its pictures."""
