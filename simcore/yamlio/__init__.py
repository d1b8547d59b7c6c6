"""Located YAML loading (file:line:col) and the located error type, shared by every loader."""
