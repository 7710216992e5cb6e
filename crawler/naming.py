"""Naming a probed outlet: its display name and a short id for sites.yaml."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import tldextract

from crawler import sources
from crawler.urls import registered_domain

TITLE_SEPARATOR = re.compile(r"\s[|\-–—:•»]\s")
PUBLISHER_TYPES = ("NewsMediaOrganization", "Organization", "WebSite")


def site_name(body: bytes, url: str) -> str:
    """The outlet's name: og:site_name, else JSON-LD's publisher, else the title's site part.

    A home page title is often "Berita Terbaru Hari Ini | Kepahiang Pos": its first part
    names two outlets alike, so the part that spells the domain wins, else the last.
    """
    fallback = registered_domain(url)
    doc = sources.parse_html(sources.utf8_page(None, body).decode("utf-8"), url)
    if doc is None:
        return fallback
    for meta in doc.iter("meta"):
        if (meta.get("property") or "").lower() == "og:site_name" and meta.get("content"):
            return str(meta.get("content")).strip()
    if publisher := json_ld_publisher(doc):
        return publisher
    title = doc.find(".//title")
    if title is not None and title.text_content().strip():
        return title_site_part(title.text_content().strip(), url)
    return fallback


def json_ld_publisher(doc: Any) -> str | None:
    """The name of the page's publisher (or WebSite / news organisation) in JSON-LD."""
    for script in doc.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text_content() or "null")
        except ValueError:
            continue
        for node in json_ld_nodes(data):
            publisher = node.get("publisher")
            if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
                return publisher["name"].strip()
            kinds = node.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(k in PUBLISHER_TYPES for k in kinds) and isinstance(node.get("name"), str):
                return node["name"].strip()
    return None


def json_ld_nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from json_ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        yield from json_ld_nodes(data.get("@graph"))


def title_site_part(title: str, url: str) -> str:
    parts = [part.strip() for part in TITLE_SEPARATOR.split(title) if part.strip()]
    if len(parts) <= 1:
        return title
    host = re.sub(r"[^a-z0-9]", "", site_id_for(url))
    for part in parts:
        letters = re.sub(r"[^a-z0-9]", "", part.lower())
        if letters and (letters in host or host in letters):
            return part
    return parts[-1]


@cache
def public_suffixes() -> tldextract.TLDExtract:
    """The Public Suffix List snapshot tldextract ships: never fetched at run time."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def site_id_for(url: str) -> str:
    """The host without its public suffix (`radarkepahiang.co.id` -> `radarkepahiang`)."""
    host = registered_domain(url)
    suffix = public_suffixes()(host).suffix
    if suffix and host != suffix:
        host = host.removesuffix("." + suffix)
    slug = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")
    return slug or "site"
