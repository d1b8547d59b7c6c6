"""simcore: a scenario engine for testing autonomous-driving agents, with a Numba core."""

__version__ = "0.1.0"
