"""Scores of a synthetic table against the real one: fidelity, privacy, bias."""
