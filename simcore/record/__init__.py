"""Recording runs: trajectory buffers now; run logs and replay build on them."""
