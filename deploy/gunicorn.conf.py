"""Gunicorn settings for leadsite: `gunicorn -c deploy/gunicorn.conf.py app:app`.

Every setting can be overridden on the command line or in GUNICORN_CMD_ARGS; the environment
variables below are this file's own. See docs/operations.md for why each value is what it is.
"""

from __future__ import annotations

import os
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threads: a registration mostly waits on the database, and a thread costs far less memory
# than a process. Two processes per core, eight threads each, is a start; measure.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A request slower than this is killed (and its worker replaced): above the database's
# statement timeout (DATABASE_STATEMENT_TIMEOUT, 30 s), so that one answers first, with a 503.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "40"))
graceful_timeout = 30  # SIGTERM: requests under way get this long to finish
keepalive = 5  # seconds; behind HAProxy or nginx, above neither's idle timeout
max_requests = 5000  # workers are replaced now and then: a slow leak never grows
max_requests_jitter = 500
# The balancer's address, so that X-Forwarded-* from it is believed (with TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG")  # None: off (LOG_FORMAT=json logs requests)
errorlog = "-"
control_socket_disable = True


def on_starting(server: object) -> None:
    """Empty PROMETHEUS_MULTIPROC_DIR: values left by processes of an earlier run would be
    added to this run's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for file in path.glob("*.db"):
            file.unlink()


def child_exit(server: object, worker: object) -> None:
    """A web process ended: its live gauges stop counting (its counters stay summed)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
