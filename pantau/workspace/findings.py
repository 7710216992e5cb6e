"""The list of stories: search, filters, sort, pages, and the same selection as a CSV file.

Query parameters are read strictly: a value outside the allowed words or a malformed date
answers 400, and a region outside the office area answers 404, so a hand-edited address
never widens what an office sees.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pantau.core.store import reviews, worklist
from pantau.core.store.worklist import StoryQuery
from pantau.workspace import export, views
from pantau.workspace.auth import User
from pantau.workspace.pages import Workspace, whole_number

# Query parameters of the list besides the search box (open the filter panel when set).
FILTER_PARAMS = (
    "wilayah",
    "putusan",
    "kategori",
    "status",
    "tindak_lanjut",
    "media",
    "dari",
    "sampai",
    "urut",
)


class FindingsPages:
    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def query_from(self, request: Request, user: User) -> StoryQuery:
        params = request.query_params

        def value(name: str, allowed: tuple[str, ...] | None = None) -> str | None:
            raw = (params.get(name) or "").strip()
            if not raw:
                return None
            if allowed is not None and raw not in allowed:
                raise HTTPException(400)
            return raw

        region = value("wilayah")
        if region is not None and not user.may_filter_by(region):
            raise HTTPException(404)
        return StoryQuery(
            scope=user.scope,
            region=region,
            date_from=_iso_date(value("dari")),
            date_to=_iso_date(value("sampai")),
            verdict=value("putusan", worklist.VERDICTS) if "putusan" in params else "breach",
            category=value("kategori"),
            status=value("status", reviews.STATUSES),
            follow_up=value("tindak_lanjut", reviews.FOLLOW_UPS),
            outlet=value("media"),
            text=value("q"),
            sort=value("urut", worklist.SORTS) or "serious",
        )

    def listing(self, request: Request) -> Response:
        cluster = request.query_params.get("cluster", "")
        if cluster.isdigit():  # links in digests sent before the workspace existed
            return RedirectResponse(f"/findings/{int(cluster)}", status_code=302)
        workspace = self.workspace
        with workspace.database() as db:
            user = workspace.user(request, db)
            query = self.query_from(request, user)
            size = workspace.config.page_size
            page = max(1, whole_number(request.query_params.get("halaman"), 1))
            rows, total = worklist.page_of_stories(db, query, limit=size, offset=(page - 1) * size)
            pages = max(1, math.ceil(total / size))
            catalog = workspace.catalog()
            context = {
                "user": user,
                "query": query,
                "params": request.query_params,
                "filtered": any(request.query_params.get(name) for name in FILTER_PARAMS),
                "cards": [views.card(row, catalog, workspace.zone) for row in rows],
                "total": total,
                "page": page,
                "pages": pages,
                "page_link": lambda n: _link(request, halaman=n),
                "csv_link": "/findings.csv"
                + (f"?{request.url.query}" if request.url.query else ""),
                "regions": worklist.regions_in(db, user.scope),
                "outlets": worklist.outlets_in(db, user.scope),
                "categories": sorted(
                    ((c.id, c.label) for c in catalog.categories.values()), key=lambda c: c[1]
                ),
            }
        return workspace.render(request, "findings.html.j2", context)

    def csv_file(self, request: Request) -> Response:
        workspace = self.workspace
        with workspace.database() as db:
            user = workspace.user(request, db)
            rows = worklist.find_stories(db, self.query_from(request, user))
            base = str(request.base_url).rstrip("/")
            text = export.csv_text(rows, workspace.catalog(), base + "/findings/{id}")
        stamp = datetime.now(workspace.zone).strftime("%Y%m%d")
        filename = f"pantau-{user.office.id}-{stamp}.csv"
        return Response(
            "\ufeff" + text,  # a BOM so spreadsheet programs read the file as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def _iso_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise HTTPException(400) from None


def _link(request: Request, **changes: Any) -> str:
    params = dict(request.query_params)
    params.update({k: str(v) for k, v in changes.items()})
    return "/findings?" + urlencode(params)
