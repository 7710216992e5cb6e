"""The one generic news spider, configured per site by its SiteConfig.

Discovery sources are read in the order a WordPress outlet offers them: feeds (newest
items, with dates), sitemaps (index -> urlset, Google News dates), listing pages (in
page order, newest first). A site with none of them is read from its home page as a
listing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import scrapy

from crawler.spiders.readers import FeedReader, ListingReader, SitemapReader


class NewsSpider(FeedReader, SitemapReader, ListingReader):
    name = "news"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        await self.wait_as_asked()
        for request in self.source_requests():
            yield request

    def source_requests(self) -> Iterator[scrapy.Request]:
        site = self.site
        listings = list(site.listings)
        if not (site.feeds or site.sitemaps or listings):
            listings = [site.url]
        requests = [self.source_request(url, self.parse_feed) for url in site.feeds]
        # Always read a sitemap in full: an index can stay byte-identical while a child changes.
        requests += [
            self.source_request(url, self.parse_sitemap, conditional=False) for url in site.sitemaps
        ]
        requests += [
            self.source_request(url, self.parse_listing, {"chain": url, "depth": 1})
            for url in listings
        ]
        yield from (request for request in requests if request is not None)
