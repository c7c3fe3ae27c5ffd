"""The team's web workspace: server-rendered pages over the same service verbs as the CLI."""
