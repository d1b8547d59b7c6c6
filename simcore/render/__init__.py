"""Pictures: matplotlib top-down plots of maps, trajectories and events."""
