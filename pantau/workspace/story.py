"""One story: its page of evidence and history, and the decisions officers record on it.

A decision the store refuses (no reason for a dismissal, a duplicate of a story that does
not exist...) re-renders the page with status 400 and the problem named in Indonesian,
beside the form the officer was filling in.
"""

from __future__ import annotations

from sqlite_utils import Database
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pantau.core.store import reviews, worklist
from pantau.workspace import auth, views
from pantau.workspace.auth import CsrfError, User
from pantau.workspace.pages import Workspace, whole_number


class StoryPages:
    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def page(self, request: Request) -> Response:
        cluster_id = int(request.path_params["cluster_id"])
        with self.workspace.database() as db:
            user = self.workspace.user(request, db)
            return self._render(request, db, user, cluster_id, error=None)

    def _render(
        self, request: Request, db: Database, user: User, cluster_id: int, error: str | None
    ) -> Response:
        workspace = self.workspace
        row = workspace.story_in_scope(db, user, cluster_id)
        page = views.story_page(
            row,
            worklist.story_articles(db, cluster_id),
            reviews.history(db, cluster_id),
            workspace.catalog(),
            workspace.zone,
            worklist.story_cases(db, cluster_id),
            {office.id: office.name for office in workspace.config.offices},
        )
        context = {"user": user, "story": page, "error": error, "reviews": reviews}
        return workspace.render(request, "story.html.j2", context, status=400 if error else 200)

    async def review(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._review, request, form)

    def _review(self, request: Request, form: FormData) -> Response:
        cluster_id = int(request.path_params["cluster_id"])
        with self.workspace.database() as db:
            user = self.workspace.user(request, db)
            self.workspace.story_in_scope(db, user, cluster_id)
            try:
                auth.check_csrf(request, form.get("csrf"))
            except CsrfError:
                raise HTTPException(400) from None
            duplicate_of = whole_number(form.get("duplikat_dari"), None)
            if duplicate_of is not None:
                self.workspace.story_in_scope(db, user, duplicate_of)
            try:
                reviews.record(
                    db,
                    cluster_id,
                    str(form.get("aksi") or ""),
                    reviewer=user.account.email,
                    office=user.office.id,
                    note=str(form.get("catatan") or ""),
                    reason=str(form.get("alasan") or "") or None,
                    duplicate_of=duplicate_of,
                    follow_up=str(form.get("tindak_lanjut") or "") or None,
                )
            except reviews.ReviewError as exc:
                return self._render(request, db, user, cluster_id, error=_review_error(exc))
        return RedirectResponse(f"/findings/{cluster_id}#riwayat", status_code=303)


def _review_error(exc: reviews.ReviewError) -> str:
    text = str(exc)
    if "reason" in text:
        return "Pilih alasan penolakan."
    if "duplicate" in text or "no story" in text:
        return "Isi nomor cerita lain yang menjadi aslinya."
    if "follow-up" in text:
        return "Pilih status tindak lanjut."
    if "empty note" in text:
        return "Catatan masih kosong."
    return "Tindakan tidak dikenal."
