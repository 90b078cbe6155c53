"""CPU time spent by each node of the namespace cluster (from /proc), to turn a load run into
milliseconds of CPU per registration per node: what a host of each kind needs, whatever else
shares this machine's cores."""

from __future__ import annotations

import os
import subprocess

NODES = ("lb", "app1", "app2", "worker1", "worker2", "db", "cache")
TICKS = os.sysconf("SC_CLK_TCK")


def _pids(node: str) -> list[int]:
    result = subprocess.run(
        ["ip", "netns", "pids", f"ls-{node}"], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in result.stdout.split()]


def _seconds(pid: int) -> float:
    """User + system time of a process and of its children it has waited for."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:  # it ended between the listing and the read
        return 0.0
    # After the command's ")": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    return sum(int(value) for value in fields[11:15]) / TICKS


def node_seconds() -> dict[str, float]:
    """CPU seconds used so far by the processes now in each node's namespace."""
    return {node: sum(_seconds(pid) for pid in _pids(node)) for node in NODES}


def per_request_ms(
    before: dict[str, float], after: dict[str, float], requests: int
) -> dict[str, float]:
    """Milliseconds of CPU per request, per node, between two `node_seconds()` readings."""
    if requests <= 0:
        return {}
    return {node: (after[node] - before.get(node, 0.0)) * 1000 / requests for node in after}
