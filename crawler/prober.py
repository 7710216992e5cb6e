"""Plain HTTP fetches for `sites add|check` and `crawl URL`, with the crawl's rules.

The crawler's identity and size caps, robots.txt read by Protego (the parser the crawl's
RobotsTxtMiddleware uses, so a probe and a crawl never disagree about what a site
allows), and the crawl's scope: only http(s) URLs on the probed site's scheme, host and
port, redirects included. Runs without Scrapy's reactor so `pantau crawl URL` can probe
first and crawl after in the same process.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from protego import Protego

from crawler.urls import SiteScope
from pantau.core.settings import Settings

log = logging.getLogger(__name__)

PROBE_MAX_BYTES = 5 * 1024 * 1024
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least the first 500 KiB


@dataclass
class Fetched:
    url: str
    status: int
    body: bytes
    content_type: str


class Prober:
    """Plain urllib fetches with the crawler's identity, limits, robots.txt and scope."""

    def __init__(self, settings: Settings, scope: SiteScope | None = None):
        self.scope = scope or SiteScope(frozenset())
        self.opener = urllib.request.build_opener(ScopedRedirects(self))
        crawl = settings.crawl
        self.user_agent = crawl.resolved_user_agent
        self.timeout = min(crawl.download_timeout, 20.0)
        self.max_bytes = min(crawl.max_body_bytes, PROBE_MAX_BYTES)
        self.obey_robots = crawl.obey_robots
        self.robots: dict[str, Protego] = {}
        self.problems: list[str] = []  # what the probe noticed on the way (sites add shows it)

    def robots_for(self, url: str) -> Protego:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            fetched = self.fetch_raw(origin + "/robots.txt", truncate_at=ROBOTS_MAX_BYTES)
            body = fetched.body if fetched and fetched.status == 200 else b""
            if len(body) >= ROBOTS_MAX_BYTES:
                self.problems.append(
                    f"{origin}/robots.txt is over {ROBOTS_MAX_BYTES} bytes: its first "
                    f"{ROBOTS_MAX_BYTES} were read"
                )
            self.robots[origin] = Protego.parse(body.decode("utf-8", errors="replace"))
        return self.robots[origin]

    def allowed(self, url: str) -> bool:
        return not self.obey_robots or self.robots_for(url).can_fetch(url, self.user_agent)

    def fetch(self, url: str) -> Fetched | None:
        if not self.allowed(url):
            log.info("robots.txt forbids %s", url)
            return None
        return self.fetch_raw(url)

    def in_scope(self, url: str) -> bool:
        if self.scope.allows(url):
            return True
        log.info("probe: %s is not the site's scheme, host and port: not fetched", url)
        return False

    def fetch_raw(self, url: str, truncate_at: int | None = None) -> Fetched | None:
        """The URL's body, None when unreachable or over the size cap.

        With `truncate_at`, a longer body is cut there instead of refused (robots.txt).
        """
        if not self.in_scope(url):
            return None
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                if truncate_at is not None:
                    body = response.read(truncate_at)
                else:
                    body = response.read(self.max_bytes + 1)
                    if len(body) > self.max_bytes:
                        return None
                return Fetched(
                    response.geturl(),
                    response.status,
                    body,
                    response.headers.get("Content-Type", ""),
                )
        except urllib.error.HTTPError as exc:
            return Fetched(url, exc.code, b"", "")
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            log.info("probe %s failed: %s", url, exc)
            return None


class ScopedRedirects(urllib.request.HTTPRedirectHandler):
    """urllib follows a redirect only inside the prober's scope (else the 3xx stands)."""

    def __init__(self, prober: Prober):
        self.prober = prober

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not self.prober.in_scope(newurl):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)
