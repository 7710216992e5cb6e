"""Commands owned by the crawl stage (registered on pantau.commands.app)."""
