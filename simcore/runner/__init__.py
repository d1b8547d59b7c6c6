"""Running scenarios: the fixed-step loop and its results (batch backends build on it)."""
