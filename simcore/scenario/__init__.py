"""Scenario files: loading, validation and located error reporting."""
