"""Creditor policies: the YAML schema, its loader and its checks."""

from assistant.policy.loader import PolicyError, load_policies, load_policy
from assistant.policy.schema import Policy

__all__ = ["Policy", "PolicyError", "load_policy", "load_policies"]
