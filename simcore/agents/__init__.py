"""Driving agents: the Agent protocol, observations and controls, built-in agents, loading."""
