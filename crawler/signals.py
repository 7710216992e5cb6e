"""Pantau's own crawl signal, sent like Scrapy's and received by the store extension."""

# A request or a page failed: handlers get url, cause, detail (crawler/failures.py names
# the causes). The spider only says so; the store extension counts and records it.
failure_noted = object()

# A site answered 429/503 with Retry-After: handlers get spider and seconds. The store
# extension remembers it so the site's next crawl waits too.
retry_after_noted = object()
