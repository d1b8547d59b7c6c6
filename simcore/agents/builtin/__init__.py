"""Built-in agents, by name: ``autopilot`` (rule-based reference) and ``idle`` (brakes)."""
