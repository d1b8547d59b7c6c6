"""Built-in agents, by name: ``autopilot`` (rule-based reference), ``idle`` (brakes), ``replay:LOG.csv``."""
