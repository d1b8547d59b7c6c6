"""Located diagnostics of scenario files: the names of ``simcore.yamlio.errors``, re-exported here."""

from simcore.yamlio.errors import Issue, ScenarioError, did_you_mean

__all__ = ["Issue", "ScenarioError", "did_you_mean"]
