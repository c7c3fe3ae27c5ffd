"""Relance: an assistant for amicable debt recovery (recouvrement amiable)."""

__version__ = "0.1.0"
