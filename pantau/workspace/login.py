"""Logging in and out, with the lockout after repeated failures told in plain words.

The form posts back to itself; a failure re-renders it (status 400) keeping the page the
officer was sent from, and a success starts a fresh session and goes there.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from alerts.render import format_moment
from pantau.core.store import accounts
from pantau.workspace import auth
from pantau.workspace.auth import CsrfError
from pantau.workspace.pages import Workspace


class LoginPages:
    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def form(self, request: Request) -> Response:
        next_path = auth.safe_next(request.query_params.get("next"))
        return self.workspace.render(request, "login.html.j2", {"next": next_path, "error": None})

    async def log_in(self, request: Request) -> Response:
        form = await request.form()
        # Password hashing is slow on purpose: keep it off the event loop.
        return await run_in_threadpool(self._log_in, request, form)

    def _log_in(self, request: Request, form: FormData) -> Response:
        next_path = auth.safe_next(str(form.get("next") or ""))
        try:
            auth.check_csrf(request, form.get("csrf"))
        except CsrfError:
            return self._failed(request, next_path, "Sesi kedaluwarsa. Silakan coba lagi.")
        email = str(form.get("email") or "")
        with self.workspace.database() as db:
            result = accounts.log_in(
                db, email, str(form.get("password") or ""), policy=self.workspace.config.lockout
            )
        if result.account is not None and result.account.office in self.workspace.offices:
            auth.start_session(request, result.account)
            return RedirectResponse(next_path, status_code=303)
        if result.locked_until is not None:
            until = format_moment(
                result.locked_until.isoformat(timespec="seconds"), self.workspace.zone
            )
            message = f"Terlalu banyak percobaan gagal. Akun dikunci sampai {until}."
        elif result.account is not None:
            message = "Kantor akun ini tidak ada di offices.yaml. Hubungi operator."
        else:
            message = "Email atau kata sandi salah."
        return self._failed(request, next_path, message)

    def _failed(self, request: Request, next_path: str, message: str) -> Response:
        return self.workspace.render(
            request, "login.html.j2", {"next": next_path, "error": message}, status=400
        )

    async def log_out(self, request: Request) -> Response:
        form = await request.form()
        try:
            auth.check_csrf(request, form.get("csrf"))
        except CsrfError:
            raise HTTPException(400) from None
        request.session.clear()
        return RedirectResponse("/login", status_code=303)
