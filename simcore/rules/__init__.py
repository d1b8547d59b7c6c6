"""Traffic rule sets (scenario key ``rules:``) and speed zones (``zones:``); see docs/rules.md."""

from simcore.rules.rulesets import GENERIC, KOREA, RULE_SETS, RuleSet, rule_set

__all__ = ["GENERIC", "KOREA", "RULE_SETS", "RuleSet", "rule_set"]
