"""Routers of the workspace, one module per page family."""
