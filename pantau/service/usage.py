"""The service's own footprint for `pantau status`: CPU and memory of its process tree.

The service, its crawl host and the host's ingest workers together are what the machine
pays for watching the outlets; Linux's /proc gives each process's counters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceUsage:
    cpu_seconds: float  # since the service started, ended children (old hosts) included
    memory_mb: float  # resident now, the service and every process below it
    processes: int

    def describe(self) -> str:
        return (
            f"{self.cpu_seconds:.0f} s CPU, {self.memory_mb:.0f} MB in {self.processes} "
            f"process{'es' * (self.processes != 1)}"
        )


def service_usage(pid: int) -> ServiceUsage | None:
    """None where /proc cannot tell (another OS, or the process is gone)."""
    tree = [pid, *descendants(pid)]
    counters = [c for c in map(process_counters, tree) if c is not None]
    if not counters or counters[0] is None:
        return None
    cpu = sum(c[0] for c in counters)
    memory = sum(c[1] for c in counters)
    return ServiceUsage(round(cpu, 1), round(memory, 1), len(counters))


def process_counters(pid: int) -> tuple[float, float] | None:
    """(CPU seconds of the process and its reaped children, resident MB)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = sum(int(value) for value in fields[11:15]) / ticks  # utime stime cutime cstime
    rss_kb = next(
        (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
    )
    return cpu, rss_kb / 1024


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (each thread's children: the host starts from a thread)."""
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children: list[int] = []
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
        found += children
        frontier += children
    return found
