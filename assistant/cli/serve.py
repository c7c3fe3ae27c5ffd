"""`relance serve`: the team's web workspace."""

from __future__ import annotations

import typer

from assistant.cli.common import err_console, fail, get_app, policies_or_fail


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
) -> None:
    """Serve the web workspace (needs RELANCE_SECRET_KEY and at least one `relance users add`)."""
    import uvicorn

    from assistant.web.app import WebConfigError, create_web_app

    application = get_app()
    with policies_or_fail(application):
        _ = application.policies
    try:
        web = create_web_app(application)
    except WebConfigError as exc:
        fail(str(exc))
    err_console.print(f"Relance workspace on http://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(web, host=host, port=port, log_level="warning", proxy_headers=False)
