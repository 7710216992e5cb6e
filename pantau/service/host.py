"""The service's crawl host (crawler/host.py): started, fed, watched, recycled, stopped.

One host process runs every scheduled crawl, so the models load once per host instead of
once per crawl. A crawl is a JSON line to the host's stdin; its result comes back as a
line on the host's stdout, read by one thread per host that wakes the crawl's waiter. A
host that dies (killed, out of memory, a crash) fails its waiting crawls with `HostDied`;
the next crawl starts a new host. A host is recycled after `crawl.host_max_crawls` crawls
or `crawl.host_max_mb` MB: new crawls go to a new host while the old one finishes its
own and exits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pantau.core.settings import Settings, SiteConfig
from pantau.wiring import INGESTOR_PATH

log = logging.getLogger("pantau.scheduler")


class HostDied(Exception):
    """The crawl host ended with this crawl still running: the crawl was cut off."""


@dataclass
class CrawlHostProcess:
    """One running host: its pipes, the crawls waiting on it, and what it last reported."""

    process: subprocess.Popen[str]
    waiting: dict[str, Future[dict[str, Any]]] = field(default_factory=dict)
    crawls: int = 0
    rss_mb: float = 0.0
    retiring: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None and not self.exited.is_set()

    def __post_init__(self) -> None:
        self.exited = threading.Event()
        threading.Thread(target=self._read_events, name=f"host-{self.pid}", daemon=True).start()
        threading.Thread(target=self._relay_log, name=f"host-log-{self.pid}", daemon=True).start()

    def submit(self, site: SiteConfig, resume: bool) -> Future[dict[str, Any]]:
        future: Future[dict[str, Any]] = Future()
        request = {"crawl": {"site": site.model_dump(mode="json"), "resume": resume}}
        with self.lock:
            if self.exited.is_set():
                raise HostDied(f"crawl host {self.pid} has exited")
            self.waiting[site.id] = future
            self._send(request)
        return future

    def stop_crawl(self, site_id: str) -> None:
        with self.lock:
            self._send({"stop": site_id})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass  # the reader thread notices the exit and fails the waiting crawls

    def retire(self) -> None:
        """No more crawls: the host finishes those it has, then exits (end of its input)."""
        with self.lock:
            self.retiring = True
            with contextlib.suppress(OSError, ValueError):
                assert self.process.stdin is not None
                self.process.stdin.close()

    def terminate(self, timeout: float) -> None:
        """SIGTERM: the host stops its crawls (their runs close as interrupted) and exits."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("crawl host %d did not stop in %.0f s: killing it", self.pid, timeout)
            self.kill()
        self.exited.wait(5)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()

    def _read_events(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                log.warning("crawl host %d: unreadable line %r", self.pid, line[:200])
                continue
            self._on_event(event)
        code = self.process.wait()
        with self.lock:
            self.exited.set()
            cut_off, self.waiting = self.waiting, {}
        if cut_off or not self.retiring:
            log.log(
                logging.WARNING if cut_off else logging.INFO,
                "crawl host %d exited (code %s); %d crawl(s) cut off",
                self.pid,
                code,
                len(cut_off),
            )
        for future in cut_off.values():
            future.set_exception(HostDied(f"crawl host {self.pid} exited (code {code})"))

    def _on_event(self, event: dict[str, Any]) -> None:
        kind, site = event.get("event"), str(event.get("site", ""))
        if kind == "ready":
            log.info("crawl host %d ready", self.pid)
        elif kind in ("finished", "refused"):
            self.crawls = int(event.get("crawls", self.crawls))
            self.rss_mb = float(event.get("rss_mb", self.rss_mb))
            with self.lock:
                future = self.waiting.pop(site, None)
            if future is not None:
                future.set_result(event)

    def _relay_log(self) -> None:
        assert self.process.stderr is not None
        child_log = logging.getLogger("pantau.crawl.host")
        for line in self.process.stderr:
            if line.strip():
                child_log.info("%s", line.rstrip())


class HostSupervisor:
    """Keeps one current crawl host for the service: started on demand, replaced when it
    died or is due for recycling, stopped with the service."""

    def __init__(self, db_path: Path, config_directory: Path, settings: Settings):
        self.db_path = db_path
        self.config_directory = config_directory
        self.settings = settings
        self.current: CrawlHostProcess | None = None
        self.hosts: list[CrawlHostProcess] = []
        self._lock = threading.Lock()
        self._stopping = False
        # Hosts are started from this one long-lived thread: the kernel's parent-death
        # signal (PR_SET_PDEATHSIG) follows the thread that started a child, not the process.
        self._starter = ThreadPoolExecutor(1, thread_name_prefix="crawl-host-starter")

    def submit(
        self, site: SiteConfig, resume: bool
    ) -> tuple[CrawlHostProcess, Future[dict[str, Any]]]:
        with self._lock:
            if self._stopping:
                raise HostDied("the service is stopping")
            host = self._host()
        return host, host.submit(site, resume)

    def _host(self) -> CrawlHostProcess:
        host = self.current
        if host is not None and host.alive() and self._due_for_recycling(host):
            log.info(
                "recycling crawl host %d after %d crawl(s) at %.0f MB",
                host.pid,
                host.crawls,
                host.rss_mb,
            )
            host.retire()
            host = None
        if host is None or not host.alive():
            host = self._starter.submit(self._start).result()
            self.current = host
        self.hosts = [h for h in self.hosts if h.alive() or h is host]
        return host

    def _due_for_recycling(self, host: CrawlHostProcess) -> bool:
        crawl = self.settings.crawl
        return host.crawls >= crawl.host_max_crawls or host.rss_mb >= crawl.host_max_mb

    def _start(self) -> CrawlHostProcess:
        env = {**os.environ, "PANTAU_CONFIG": str(self.config_directory)}
        command = [sys.executable, "-m", "crawler.host", "--db", str(self.db_path)]
        command += ["--ingestor", INGESTOR_PATH]
        command += ["--parent", str(os.getpid())]
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=env,
            start_new_session=True,  # a Ctrl-C reaches the service, which stops the host
        )
        host = CrawlHostProcess(process)
        self.hosts.append(host)
        log.info("crawl host %d started", process.pid)
        return host

    def reconfigure(self, settings: Settings) -> None:
        """Changed settings take effect with a new host; the old one finishes its crawls."""
        with self._lock:
            if crawl_relevant(settings) == crawl_relevant(self.settings):
                self.settings = settings
                return
            self.settings = settings
            if self.current is not None:
                log.info("settings changed: the next crawls start a new crawl host")
                self.current.retire()
                self.current = None

    def stop(self, timeout: float) -> None:
        with self._lock:
            self._stopping = True
            hosts = [host for host in self.hosts if host.alive()]
        for host in hosts:
            log.info("stopping crawl host %d", host.pid)
        threads = [threading.Thread(target=host.terminate, args=(timeout,)) for host in hosts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self._starter.shutdown(wait=False)


def crawl_relevant(settings: Settings) -> dict[str, Any]:
    """What the host uses: everything but the digest and mail settings."""
    return settings.model_dump(exclude={"digest", "smtp"})
