"""`relance --version` prints the version; bare `relance` prints the help."""

from __future__ import annotations

from typer.testing import CliRunner

from assistant import __version__
from assistant.cli.main import app


def test_version_and_bare_command():
    runner = CliRunner()
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.output.strip() == f"relance {__version__}"
    bare = runner.invoke(app, [])
    assert bare.exit_code == 0 and "Usage: relance" in bare.output and "cycle" in bare.output
