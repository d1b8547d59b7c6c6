"""Located YAML of scenario files: the names of ``simcore.yamlio.source``, re-exported here."""

from simcore.yamlio.source import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    YamlDoc,
    format_path,
    issues_from_validation_error,
    load_yaml,
)

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "YamlDoc", "format_path", "issues_from_validation_error", "load_yaml"]
