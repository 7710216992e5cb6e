"""sites.yaml upkeep: checking what each configured source yields now, adding entries.

An operator adds a site by URL and must be able to see, later, whether its feed or
sitemap still works; both live here so the CLI stays thin.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from crawler import sources
from crawler.discovery import DiscoveryError, probe_site
from crawler.prober import Prober
from crawler.urls import SiteScope, canonicalize
from pantau.core.settings import ConfigError, Settings, SiteConfig, SitesFile, load_model


@dataclass
class SourceReport:
    site: str
    kind: str  # feed | sitemap | listing
    url: str
    status: str  # ok | HTTP nnn | unreachable | empty | forbidden
    links: int = 0
    matching: int = 0
    newest: datetime | None = None


def check_source(prober: Prober, site: SiteConfig, kind: str, url: str) -> SourceReport:
    report = SourceReport(site.id, kind, url, "unreachable")
    if not prober.allowed(url):
        report.status = "forbidden by robots.txt"
        return report
    fetched = prober.fetch_raw(url)
    if fetched is None:
        return report
    if fetched.status != 200:
        report.status = f"HTTP {fetched.status}"
        return report
    links: list[sources.Link]
    if kind == "feed":
        links = sources.parse_feed(fetched.body, fetched.url)
    elif kind == "sitemap":
        try:
            doc = sources.parse_sitemap(fetched.body)
        except sources.Oversized:
            report.status = "oversize"
            return report
        links = doc.links
        if doc.kind == "index":
            report.status = f"ok (index of {len(links)} sitemaps)"
            report.links = len(links)
            report.newest = max((lk.date for lk in links if lk.date), default=None)
            return report
    else:
        scope = SiteScope.of([site.url], site.allowed_domains)
        links = [
            sources.Link(url)
            for url in sources.article_links(fetched.body, fetched.url, scope, None)
        ]
    report.links = len(links)
    report.matching = sum(
        1 for lk in links if sources.is_article_url(canonicalize(lk.url), site.article_pattern)
    )
    report.newest = max((lk.date for lk in links if lk.date), default=None)
    report.status = "ok" if links else "empty"
    return report


def check_site(site: SiteConfig, settings: Settings) -> list[SourceReport]:
    """Fetch every configured source now and say what it yields."""
    declared = [site.url, *site.feeds, *site.sitemaps, *site.listings]
    prober = Prober(settings, SiteScope.of(declared, site.allowed_domains))
    reports = [check_source(prober, site, "feed", url) for url in site.feeds]
    reports += [check_source(prober, site, "sitemap", url) for url in site.sitemaps]
    listings = site.listings or ([] if site.feeds or site.sitemaps else [site.url])
    reports += [check_source(prober, site, "listing", url) for url in listings]
    return reports


def undeclared_sources(site: SiteConfig, settings: Settings) -> list[str]:
    """Feeds and sitemaps discovery finds now that the entry does not list."""
    try:
        found = probe_site(site.url, settings)
    except DiscoveryError as exc:
        return [f"discovery failed: {exc}"]
    known = {canonicalize(u) for u in (*site.feeds, *site.sitemaps)}
    return [u for u in (*found.feeds, *found.sitemaps) if canonicalize(u) not in known]


# --- writing sites.yaml -------------------------------------------------------------


def entry_dict(site: SiteConfig) -> dict[str, Any]:
    """The entry as an operator would write it: defaults left out."""
    data = site.model_dump(exclude_defaults=True)
    data.setdefault("enabled", True)
    return {key: data[key] for key in SiteConfig.model_fields if key in data}


def entry_yaml(site: SiteConfig) -> str:
    text = yaml.safe_dump([entry_dict(site)], allow_unicode=True, sort_keys=False, width=100)
    return "".join("  " + line if line.strip() else line for line in text.splitlines(True))


def round_trip_yaml() -> YAML:
    """ruamel.yaml in round-trip mode: the operator's comments and layout are kept."""
    handler = YAML(typ="rt")
    handler.indent(mapping=2, sequence=4, offset=2)
    handler.width = 100
    handler.preserve_quotes = True
    return handler


def add_site_entry(path: Path, site: SiteConfig) -> None:
    """Append an entry to sites.yaml keeping the operator's comments; validate first."""
    text = path.read_text(encoding="utf-8") if path.exists() else "sites: []\n"
    existing = load_model(path, SitesFile, yaml.safe_load(text) or {}).sites
    if any(s.id == site.id for s in existing):
        raise ConfigError(f"{path}: a site with id {site.id!r} already exists")
    handler = round_trip_yaml()
    document = handler.load(text)
    if not isinstance(document, CommentedMap):
        document = CommentedMap()
    entries = document.get("sites")
    if not isinstance(entries, CommentedSeq) or not entries:
        # `sites: []` (or none): a block list from now on, keeping the line's comment.
        block = CommentedSeq()
        if isinstance(entries, CommentedSeq) and entries.ca.comment:
            block.ca.comment = entries.ca.comment
        document["sites"] = entries = block
    entries.append(CommentedMap(entry_dict(site)))
    out = io.StringIO()
    handler.dump(document, out)
    new_text = out.getvalue()
    if not new_text.endswith("\n"):
        new_text += "\n"
    load_model(path, SitesFile, yaml.safe_load(new_text))
    write_atomically(path, new_text)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".sites-", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
