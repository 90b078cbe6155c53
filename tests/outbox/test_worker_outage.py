"""A worker whose database goes away logs one line, not a traceback per poll, waits longer
and longer between looks (up to a few seconds), and says once when the database is back."""

from __future__ import annotations

import itertools
import logging
import threading
import time

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from leadsite.outbox import worker
from tests.servers import free_port


def _refused() -> OperationalError:
    """The error a worker gets when PostgreSQL is down: a real refused connection."""
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/lt_idem")
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError("nothing should listen on a free port")


def test_an_outage_is_logged_once_polled_less_and_its_end_logged_once(
    app: Flask, monkeypatch, caplog
):
    refused = _refused()
    real_run_once = worker.run_once
    down_until = time.monotonic() + 1.5
    looks: list[float] = []

    def run_once(stop: threading.Event | None = None, **options: object) -> int:
        looks.append(time.monotonic())
        if time.monotonic() < down_until:
            raise refused
        return real_run_once(stop, **options)

    monkeypatch.setattr(worker, "run_once", run_once)
    monkeypatch.setitem(app.config, "WORKER_LISTEN", False)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(app, stop, 0.05), daemon=True)
    with caplog.at_level(logging.INFO, logger="leadsite.outbox.worker"):
        thread.start()
        time.sleep(2.2)
        stop.set()
        thread.join(timeout=10)

    records = [r for r in caplog.records if r.name == "leadsite.outbox.worker"]
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith("database unavailable; the worker waits for it: ")
    assert warnings[1].startswith("database back after ")
    assert not [r for r in records if r.levelno >= logging.ERROR or r.exc_info]
    during = [at for at in looks if at < down_until]
    # 1.5 s at a steady 0.05 s poll would be about 30 looks; doubling waits make 6 or so.
    assert 3 <= len(during) <= 8, len(during)
    gaps = [later - earlier for earlier, later in itertools.pairwise(during)]
    assert gaps[-1] > 4 * gaps[0]  # the waits grow
    assert len(looks) > len(during)  # it went on once the database was back


@pytest.mark.parametrize("waits", [[0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]])
def test_the_wait_between_looks_doubles_up_to_the_cap(waits: list[float]):
    outage = worker._Outage(0.05)
    seen = []
    for _ in waits:
        outage.seen(RuntimeError("down"))
        seen.append(outage.wait)
    assert seen == pytest.approx(waits)
    outage.over()
    assert (outage.since, outage.wait) == (None, 0.05)
