"""Batch runs: every scenario x variant x agent, in a local process pool or on Ray; resumable."""
