"""Chaos tests: real servers, real concurrency; nothing doubled, lost or changed by a stranger."""
