"""Road networks as flat arrays: generation, lane graph, routing and lane projection."""
