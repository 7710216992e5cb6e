"""`pantau demo`: three fictional outlets on loopback, crawled, analysed and digested for real.

The demo is wiring only: it builds the outlets' pages from the articles under data/demo/,
serves them on fixed loopback ports (URLs must not change between runs, because the
database remembers them), starts an SMTP sink, and then calls the real stages, exactly as
the scheduler does: `crawler.run.crawl_sites`, then `alerts.digest.run_digests`. A second
run over the same database finds every URL known and every story delivered, so it sends
nothing again.

Modules: `data` (the demo's own files), `site` (the outlets' pages), `servers` (loopback HTTP
and the SMTP sink), `run` (one run) and `summary` (what it prints, read from the store).
"""
