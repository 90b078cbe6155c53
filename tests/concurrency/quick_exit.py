"""The tests' servers and workers exit as soon as they are done: gunicorn's hooks (`--config`
this file) and, run as `python -m tests.concurrency.quick_exit <flask arguments>`, the `flask`
command (`flask run`, `flask leadsite worker`).

A stopped process spent 1-2 s of CPU on the interpreter's finalization (freeing the whole app,
module by module, without a system call in between: strace), 5-13 s of each test's stop at
CI's load, with gunicorn's workers, its master and the `leadsite worker` process finalizing at
once on 2 cores. What a process has to do at its end still runs first: the `atexit` handlers
(the request log's and the analytics counters' writers flush what they hold), then the log's
buffers; only the freeing of memory that the exit gives back anyway is skipped.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys


def exit_now(status: int = 0) -> None:
    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def worker_exit(server: object, worker: object) -> None:
    """Gunicorn: a worker's end, after its last request (`Worker exiting`)."""
    exit_now()


def on_exit(server: object) -> None:
    """Gunicorn: the master's end, once every worker is gone (`Shutting down: Master`)."""
    exit_now()


if __name__ == "__main__":
    from flask.cli import main

    sys.argv = ["flask", *sys.argv[1:]]
    try:
        main()
        status = 0
    except SystemExit as done:
        status = done.code if isinstance(done.code, int) else 0 if done.code is None else 1
    exit_now(status)
