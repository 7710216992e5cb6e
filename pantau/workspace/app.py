"""The Starlette application: the address table, the middleware every response passes
through (security headers, signed sessions) and how errors are answered.

The pages themselves live one idea per module (login, findings, story, overview) and share
one Workspace: configuration, per-request database, templates and the office-area check.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pantau.workspace import auth
from pantau.workspace.auth import NotLoggedIn
from pantau.workspace.findings import FindingsPages
from pantau.workspace.login import LoginPages
from pantau.workspace.overview import OverviewPage
from pantau.workspace.pages import HERE, Workspace, WorkspaceConfig
from pantau.workspace.story import StoryPages

__all__ = ["WorkspaceConfig", "create_app"]

# No scripts, no frames, nothing from other hosts: scraped text that slipped through
# escaping still could not run, and the pages cannot be framed for clickjacking.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]

ERROR_MESSAGES = {
    404: "Halaman atau temuan tidak ditemukan di wilayah Anda.",
    400: "Permintaan tidak valid. Muat ulang halaman lalu coba lagi.",
    405: "Metode tidak diizinkan.",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response (a plain ASGI middleware)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ErrorPages:
    """Errors answered as pages of the workspace, in Indonesian, never as a stack trace."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = ERROR_MESSAGES.get(exc.status_code, "Terjadi kesalahan.")
        return self.workspace.render(
            request,
            "error.html.j2",
            {"message": message, "code": exc.status_code},
            status=exc.status_code,
        )

    async def not_logged_in(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotLoggedIn)
        return RedirectResponse(auth.login_redirect(exc.next_path), status_code=303)


def create_app(config: WorkspaceConfig) -> Starlette:
    workspace = Workspace(config)
    login = LoginPages(workspace)
    findings = FindingsPages(workspace)
    story = StoryPages(workspace)
    overview = OverviewPage(workspace)
    errors = ErrorPages(workspace)
    routes = [
        Route("/", lambda request: RedirectResponse("/findings", status_code=302)),
        Route("/login", login.form, methods=["GET"]),
        Route("/login", login.log_in, methods=["POST"]),
        Route("/logout", login.log_out, methods=["POST"]),
        Route("/findings", findings.listing, methods=["GET"]),
        Route("/findings.csv", findings.csv_file, methods=["GET"]),
        Route("/findings/{cluster_id:int}", story.page, methods=["GET"]),
        Route("/findings/{cluster_id:int}/review", story.review, methods=["POST"]),
        Route("/overview", overview.page, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=config.secret_key,
            session_cookie="pantau_session",
            max_age=config.session_hours * 3600,
            same_site="lax",
            https_only=config.https_only,
        ),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            HTTPException: errors.http_error,
            NotLoggedIn: errors.not_logged_in,
        },
    )
