"""The long-lived service (`pantau schedule`) and what `pantau status` reports about it.

Modules, one idea each: `lock` (one scheduler per database), `config` (what it reads and
the triggers), `timing` (when jobs run after a restart), `state` (`schedule_state`),
`crawls` (crawl jobs in the crawl host, `host`), `handoff` (`pantau crawl SITE` handed
to the running service), `digests` (the digest job and its retries), `scheduler`
(the APScheduler wiring), `logs` and `status`.

Wiring only. Every crawl runs in one long-lived crawl host (`crawler/host.py`, supervised
by `host`): its reactor runs many site crawls and its ingest workers keep the models
loaded, so a crawl no longer pays the start-up of its own process. The digest runs
in-process through `alerts.digest.run_digests`, so a SIGTERM can let a running digest
finish instead of killing it halfway through an SMTP conversation (alerts keeps delivery
exactly-once either way).

Job state lives in the database (`schedule_state`), not in an APScheduler job store: the
jobs are rebuilt from config on every start, and their first run times come from what the
database says ran last. That keeps intervals going across restarts, runs a digest missed
while the service was down once (within `digest.grace_minutes`), and never repeats one.
"""
