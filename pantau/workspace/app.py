"""The Starlette application: routes, per-request database connections, pages.

Every page needs an account; every story, list, chart and export is limited to the
account's office area, and a story outside it answers 404 exactly like one that does not
exist. Each request opens its own SQLite connection (the file is in WAL mode, so the
crawler and the digest keep writing while officers read).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlite_utils import Database
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from alerts.categories import Catalog, load_catalog
from alerts.render import clean_text, format_moment, short_date
from pantau.core import store
from pantau.core.settings import OfficeConfig, SiteConfig
from pantau.core.store import accounts, reviews, worklist
from pantau.core.store.coverage import recent_articles_by_site
from pantau.core.store.crawl_history import last_run_per_site
from pantau.core.store.worklist import StoryQuery
from pantau.workspace import auth, charts, export, labels, views
from pantau.workspace.auth import CsrfError, NotLoggedIn, User
from pantau.workspace.kinds import load_kinds

HERE = Path(__file__).parent
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


@dataclass
class WorkspaceConfig:
    db_path: Path
    offices: list[OfficeConfig]
    secret_key: str
    sites: list[SiteConfig] = field(default_factory=list)
    timezone: str = "Asia/Jakarta"
    https_only: bool = False
    page_size: int = 25
    session_hours: int = 12
    lockout: accounts.Lockout = field(default_factory=accounts.Lockout)


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["labels"] = labels
    return environment


class Workspace:
    """The pages; one instance per application, shared by every request."""

    def __init__(self, config: WorkspaceConfig):
        self.config = config
        self.offices = {office.id: office for office in config.offices}
        self.zone = ZoneInfo(config.timezone)
        self.templates = _environment()

    # --- plumbing -------------------------------------------------------------------

    @contextmanager
    def database(self) -> Iterator[Database]:
        db = store.open_db(self.config.db_path, migrate=False)
        try:
            yield db
        finally:
            db.close()

    def catalog(self) -> Catalog:
        return load_catalog()

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        context = {"request": request, "csrf": auth.csrf_token(request), "user": None, **context}
        html = self.templates.get_template(name).render(context)
        return HTMLResponse(html, status_code=status)

    def user(self, request: Request, db: Database) -> User:
        return auth.current_user(request, db, self.offices)

    def story_in_scope(self, db: Database, user: User, cluster_id: int) -> worklist.StoryRow:
        row = worklist.story(db, cluster_id)
        if row is None or not user.covers(row.region_code):
            raise HTTPException(404)
        return row

    # --- logging in and out --------------------------------------------------------

    def login_form(self, request: Request) -> Response:
        next_path = auth.safe_next(request.query_params.get("next"))
        return self.render(request, "login.html.j2", {"next": next_path, "error": None})

    async def login(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._login, request, form)

    def _login(self, request: Request, form: FormData) -> Response:
        next_path = auth.safe_next(str(form.get("next") or ""))
        try:
            auth.check_csrf(request, form.get("csrf"))
        except CsrfError:
            return self._login_error(request, next_path, "Sesi kedaluwarsa. Silakan coba lagi.")
        email = str(form.get("email") or "")
        with self.database() as db:
            result = accounts.log_in(
                db, email, str(form.get("password") or ""), policy=self.config.lockout
            )
        if result.account is not None and result.account.office in self.offices:
            auth.start_session(request, result.account)
            return RedirectResponse(next_path, status_code=303)
        if result.locked_until is not None:
            until = format_moment(result.locked_until.isoformat(timespec="seconds"), self.zone)
            message = f"Terlalu banyak percobaan gagal. Akun dikunci sampai {until}."
        elif result.account is not None:
            message = "Kantor akun ini tidak ada di offices.yaml. Hubungi operator."
        else:
            message = "Email atau kata sandi salah."
        return self._login_error(request, next_path, message)

    def _login_error(self, request: Request, next_path: str, message: str) -> Response:
        return self.render(
            request, "login.html.j2", {"next": next_path, "error": message}, status=400
        )

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        try:
            auth.check_csrf(request, form.get("csrf"))
        except CsrfError:
            raise HTTPException(400) from None
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # --- the list ------------------------------------------------------------------

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

    def findings(self, request: Request) -> Response:
        cluster = request.query_params.get("cluster", "")
        if cluster.isdigit():  # links in digests sent before the workspace existed
            return RedirectResponse(f"/findings/{int(cluster)}", status_code=302)
        with self.database() as db:
            user = self.user(request, db)
            query = self.query_from(request, user)
            size = self.config.page_size
            page = max(1, _int(request.query_params.get("halaman"), 1))
            rows, total = worklist.page_of_stories(db, query, limit=size, offset=(page - 1) * size)
            pages = max(1, math.ceil(total / size))
            catalog = self.catalog()
            context = {
                "user": user,
                "query": query,
                "params": request.query_params,
                "filtered": any(request.query_params.get(name) for name in FILTER_PARAMS),
                "cards": [views.card(row, catalog, self.zone) for row in rows],
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
        return self.render(request, "findings.html.j2", context)

    def findings_csv(self, request: Request) -> Response:
        with self.database() as db:
            user = self.user(request, db)
            rows = worklist.find_stories(db, self.query_from(request, user))
            base = str(request.base_url).rstrip("/")
            text = export.csv_text(rows, self.catalog(), base + "/findings/{id}")
        stamp = datetime.now(self.zone).strftime("%Y%m%d")
        filename = f"pantau-{user.office.id}-{stamp}.csv"
        return Response(
            "\ufeff" + text,  # a BOM so spreadsheet programs read the file as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    # --- one story -----------------------------------------------------------------

    def story(self, request: Request) -> Response:
        cluster_id = int(request.path_params["cluster_id"])
        with self.database() as db:
            user = self.user(request, db)
            return self._story_page(request, db, user, cluster_id, error=None)

    def _story_page(
        self, request: Request, db: Database, user: User, cluster_id: int, error: str | None
    ) -> Response:
        row = self.story_in_scope(db, user, cluster_id)
        page = views.story_page(
            row,
            worklist.story_articles(db, cluster_id),
            reviews.history(db, cluster_id),
            self.catalog(),
            self.zone,
            worklist.story_cases(db, cluster_id),
            {office.id: office.name for office in self.config.offices},
        )
        context = {"user": user, "story": page, "error": error, "reviews": reviews}
        return self.render(request, "story.html.j2", context, status=400 if error else 200)

    async def review(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._review, request, form)

    def _review(self, request: Request, form: FormData) -> Response:
        cluster_id = int(request.path_params["cluster_id"])
        with self.database() as db:
            user = self.user(request, db)
            self.story_in_scope(db, user, cluster_id)
            try:
                auth.check_csrf(request, form.get("csrf"))
            except CsrfError:
                raise HTTPException(400) from None
            duplicate_of = _int(form.get("duplikat_dari"), None)
            if duplicate_of is not None:
                self.story_in_scope(db, user, duplicate_of)
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
                return self._story_page(request, db, user, cluster_id, error=_review_error(exc))
        return RedirectResponse(f"/findings/{cluster_id}#riwayat", status_code=303)

    # --- overview ------------------------------------------------------------------

    def overview(self, request: Request) -> Response:
        with self.database() as db:
            user = self.user(request, db)
            region = request.query_params.get("wilayah") or None
            if region is not None and not user.may_filter_by(region):
                raise HTTPException(404)
            rows = [
                row
                for row in worklist.find_stories(
                    db, StoryQuery(scope=user.scope, region=region, verdict="breach")
                )
                if row.review_status != "dismissed"
            ]
            since = (datetime.now(UTC) - timedelta(days=7)).isoformat(timespec="seconds")
            last_runs = last_run_per_site(db)
            recent = recent_articles_by_site(db, since)
        health = [
            self._health_line(site, last_runs.get(site), recent[site])
            for site in self._sites_for(user, rows)
        ]
        context = {"user": user, "total": len(rows), "charts": self._charts(rows), "health": health}
        return self.render(request, "overview.html.j2", context)

    def _charts(self, rows: list[worklist.StoryRow]) -> list[charts.Chart]:
        catalog = self.catalog()
        kinds = load_kinds()
        # The twelve weeks up to the latest story, so a quiet spell or an archive still shows
        # its shape; "until" says which weeks they are.
        today = datetime.now(self.zone).date()
        days = [d for d in (_day(row.first_seen, self.zone) for row in rows) if d]
        last = min(today, max(days, default=today))
        by_category = Counter(catalog.get(c).label for row in rows for c in row.violations)
        by_kind = Counter(
            kinds.kind_of(person.get("position")) for row in rows for person in row.officials
        )
        by_region = Counter(clean_text(row.region_name) or "Tidak teridentifikasi" for row in rows)
        return [
            charts.week_chart(
                f"Temuan per minggu (12 minggu sampai {short_date(last)})", days, last
            ),
            charts.row_chart("Menurut kategori pelanggaran", by_category),
            charts.row_chart("Menurut jenis terduga", by_kind),
            charts.row_chart("Menurut kabupaten/kota", by_region),
        ]

    def _sites_for(self, user: User, rows: list[worklist.StoryRow]) -> list[str]:
        """Outlets covering the area: those placed in it, and those that carried its stories."""
        placed = [s.id for s in self.config.sites if user.scope is None or user.covers(s.region)]
        carried = [site for row in rows for site in row.sites]
        return sorted(set(placed) | set(carried))

    def _health_line(
        self, site: str, last_run: dict[str, Any] | None, recent: int
    ) -> dict[str, Any]:
        names = {entry.id: entry.name for entry in self.config.sites}
        run = last_run or {}
        return {
            "name": clean_text(names.get(site, site)),
            "status": labels.label(labels.CRAWL_STATUSES, run.get("status"), "belum dirayapi"),
            "status_code": run.get("status") or "none",
            "last": format_moment(run.get("finished_at") or run.get("started_at"), self.zone)
            if run
            else "-",
            "failures": run.get("failures") or 0,
            "recent": recent,
        }

    # --- errors --------------------------------------------------------------------

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        messages = {
            404: "Halaman atau temuan tidak ditemukan di wilayah Anda.",
            400: "Permintaan tidak valid. Muat ulang halaman lalu coba lagi.",
            405: "Metode tidak diizinkan.",
        }
        message = messages.get(exc.status_code, "Terjadi kesalahan.")
        return self.render(
            request,
            "error.html.j2",
            {"message": message, "code": exc.status_code},
            status=exc.status_code,
        )

    async def not_logged_in(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotLoggedIn)
        return RedirectResponse(auth.login_redirect(exc.next_path), status_code=303)


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


def _int(value: object, default: int | None) -> Any:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else default


def _iso_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise HTTPException(400) from None


def _day(value: str | None, zone: ZoneInfo) -> date | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).date()


def _link(request: Request, **changes: Any) -> str:
    params = dict(request.query_params)
    params.update({k: str(v) for k, v in changes.items()})
    return "/findings?" + urlencode(params)


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


def create_app(config: WorkspaceConfig) -> Starlette:
    workspace = Workspace(config)
    routes = [
        Route("/", lambda request: RedirectResponse("/findings", status_code=302)),
        Route("/login", workspace.login_form, methods=["GET"]),
        Route("/login", workspace.login, methods=["POST"]),
        Route("/logout", workspace.logout, methods=["POST"]),
        Route("/findings", workspace.findings, methods=["GET"]),
        Route("/findings.csv", workspace.findings_csv, methods=["GET"]),
        Route("/findings/{cluster_id:int}", workspace.story, methods=["GET"]),
        Route("/findings/{cluster_id:int}/review", workspace.review, methods=["POST"]),
        Route("/overview", workspace.overview, methods=["GET"]),
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
            HTTPException: workspace.http_error,
            NotLoggedIn: workspace.not_logged_in,
        },
    )
