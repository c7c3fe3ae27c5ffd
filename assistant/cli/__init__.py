"""The `relance` command line: thin commands that parse input, call a service, render."""
