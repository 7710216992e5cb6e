"""URL canonicalisation: one article, one URL, however it was linked.

Regional outlets link the same story as http and https, with and without a trailing
slash, as an AMP copy, and with campaign parameters appended by social shares. The
crawler folds all of them before deciding whether a URL is already known, so a story
is fetched and stored once.

Kept by hand rather than w3lib's `canonicalize_url` or courlan's `normalize_url`: both
still need the tracking, AMP and default-port folding below, and on 5,000 generated
article URLs ours took 64 us a URL against 114 (w3lib) and 118 (courlan); the crawler
canonicalises every link of every listing and sitemap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gbraid",
        "wbraid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "share",
        "amp",
        "amp_js_v",
        "amp_gsa",
        "usqp",
        "outputtype",
        "cx_testid",
        "cx_testvariant",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "vero_")
AMP_SUFFIX = re.compile(r"/amp/?$")
AMP_PREFIX = re.compile(r"^/amp(/.+)$")
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_http_url(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def strip_amp_path(path: str) -> str:
    """`/berita/x/amp/` and `/amp/berita/x/` are AMP copies of `/berita/x/`."""
    if AMP_SUFFIX.search(path) and path.rstrip("/") != "/amp":
        return AMP_SUFFIX.sub("/", path)
    if match := AMP_PREFIX.match(path):
        return match.group(1)
    return path


def canonicalize(url: str, base: str | None = None) -> str:
    """The one form under which an article URL is stored and looked up.

    Lower-case scheme and host, no default port, no fragment, no tracking or AMP
    parameters, no AMP path, remaining query parameters sorted.
    """
    if base:
        url = urljoin(base, url.strip())
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = strip_amp_path(re.sub(r"/{2,}", "/", parts.path or "/"))
    query_pairs = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(key)
    ]
    query = urlencode(sorted(query_pairs))
    return urlunsplit((scheme, netloc, path, query, ""))


def url_variants(url: str) -> list[str]:
    """The forms a stored URL may have been saved under: http/https x trailing slash."""
    canonical = canonicalize(url)
    parts = urlsplit(canonical)
    paths = {parts.path}
    if parts.path != "/":
        paths.add(parts.path.rstrip("/") if parts.path.endswith("/") else parts.path + "/")
    variants = [canonical]
    for scheme in ("https", "http"):
        for path in sorted(paths):
            candidate = urlunsplit((scheme, parts.netloc, path, parts.query, ""))
            if candidate not in variants:
                variants.append(candidate)
    return variants


def fold_key(url: str) -> str:
    """A key equal for every variant of one URL (scheme and trailing slash ignored)."""
    parts = urlsplit(canonicalize(url))
    host = parts.netloc.removeprefix("www.")
    return f"{host}{parts.path.rstrip('/') or '/'}" + (f"?{parts.query}" if parts.query else "")


def registered_domain(url: str) -> str:
    """Host without a leading `www.`: the domain an entry allows by default.

    Deliberately not the public-suffix "registered domain" (tldextract): regional
    outlets are often subdomains of a group's domain, and the group's other outlets are
    not this site.
    """
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def in_domains(url: str, domains: Iterable[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host without `www.`, effective port) of an http(s) URL, else None."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:  # a port out of range or not a number
        return None
    return scheme, parts.hostname.lower().rstrip(".").removeprefix("www."), port


@dataclass(frozen=True)
class SiteScope:
    """Where a site's requests may go: its own origins, and the domains it declares.

    An origin is scheme + host + port, so another port of the same host is another
    site. `www.` and the bare host are one site, and an origin on the default port may
    be reached over the other scheme's default port (an http -> https upgrade). A
    declared domain admits its subdomains, on default ports only.
    """

    origins: frozenset[tuple[str, str, int]]
    domains: tuple[str, ...] = ()

    @classmethod
    def of(cls, urls: Iterable[str], domains: Iterable[str] = ()) -> SiteScope:
        found = {origin for url in urls if (origin := origin_of(url)) is not None}
        return cls(frozenset(found), tuple(sorted({d.lower() for d in domains if d})))

    def allows(self, url: str) -> bool:
        origin = origin_of(url)
        if origin is None:
            return False
        scheme, host, port = origin
        if origin in self.origins:
            return True
        default = port == DEFAULT_PORTS[scheme]
        if default and any(
            (h, p) == (host, DEFAULT_PORTS[s]) for s, h, p in self.origins if s != scheme
        ):
            return True
        return default and in_domains(url, self.domains)

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self.allows(url)
