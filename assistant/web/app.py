"""Build the workspace's ASGI application from the composition root's `App`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from assistant import __version__
from assistant.bootstrap import App
from assistant.web.deps import CsrfRejected, Forbidden, NotFound, NotSignedIn
from assistant.web.render import templates

STATIC = Path(__file__).resolve().parent / "static"

#: Every asset comes from the app itself; drafts' HTML is shown in a sandboxed frame.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
}


DOCS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Relance workspace API</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/swagger/init.js"></script></body></html>
"""
# Swagger UI sets inline styles; its page alone allows them (still no external source).
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'self'; base-uri 'none'"
)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


class WebConfigError(Exception):
    """The workspace cannot start with these settings."""


def create_web_app(application: App) -> FastAPI:
    """Return the workspace for `application` (RELANCE_SECRET_KEY is required)."""
    from assistant.web.pages import admin, api, auth, cases, chat, policies, queue, queues

    secret = application.settings.secret_key
    if secret is None or len(secret.get_secret_value()) < 16:
        raise WebConfigError(
            "RELANCE_SECRET_KEY is required to serve the workspace (at least 16 characters); "
            'generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    web = FastAPI(
        title="Relance workspace API",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    web.state.relance = application
    web.add_middleware(
        SessionMiddleware,
        secret_key=secret.get_secret_value(),
        session_cookie="relance_session",
        max_age=application.settings.web_session_hours * 3600,
        same_site="lax",
        https_only=application.settings.web_secure_cookies,
    )

    @web.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    web.include_router(api.router)
    for pages in (auth, queue, cases, queues, policies, chat, admin):
        web.include_router(pages.router, include_in_schema=False)

    @web.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI over /openapi.json, with its assets served by the app."""
        return HTMLResponse(DOCS_PAGE, headers={"Content-Security-Policy": DOCS_CSP})

    _handle_errors(web)
    return web


def _handle_errors(web: FastAPI) -> None:
    @web.exception_handler(NotSignedIn)
    async def _signin(request: Request, _exc: NotSignedIn) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "sign in first: POST /api/session"}, status_code=401)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @web.exception_handler(NotFound)
    async def _missing(request: Request, _exc: NotFound) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "not found"}, status_code=404)
        return _error(request, 404, "Not found", "This page does not exist.")

    @web.exception_handler(Forbidden)
    async def _forbidden(request: Request, _exc: Forbidden) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "your role does not allow this"}, status_code=403)
        return _error(request, 403, "Not allowed", "Your role does not allow this.")

    @web.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _exc: CsrfRejected) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "missing or wrong X-CSRF-Token (see POST /api/session)"},
                status_code=403,
            )
        return _error(
            request, 403, "Request refused", "The form had expired: reload the page and try again."
        )


def _error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "error.html", {"title": title, "message": message}, status_code=status
    )
