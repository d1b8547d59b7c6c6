"""Scoring a run: per-step metric kernels, events, criteria verdicts and the score."""
