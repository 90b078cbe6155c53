"""The request id: taken from `X-Request-Id` (a balancer's or the client's) or made, answered in
the same header, written on the events and outbox messages the request makes, and logged.

It lives in a context variable, not in `flask.g`, so that models and log records read it
without a request context, and code outside requests (the worker) can bind one.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from flask import Flask, g, request
from werkzeug.wrappers import Response

HEADER = "X-Request-Id"
# What is taken from outside as it is: enough for UUIDs, ULIDs and HAProxy's unique ids, and
# nothing a log line or a header could be abused with.
ACCEPTED = re.compile(r"[\w.:+=@/-]{1,128}", re.ASCII)

_current: ContextVar[str | None] = ContextVar("leadsite_request_id", default=None)


def current() -> str | None:
    """The id of the request being answered (or bound), if any."""
    return _current.get()


@contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    """Make `request_id` the current one for the block."""
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)


def _begin() -> None:
    # The request's clock starts with its id, before any other hook (logs and metrics time it).
    g.request_started = time.perf_counter()
    given = request.headers.get(HEADER, "")
    request_id = given if ACCEPTED.fullmatch(given) else uuid.uuid4().hex
    g.request_id_token = _current.set(request_id)


def _answer(response: Response) -> Response:
    if request_id := current():
        response.headers[HEADER] = request_id
    return response


def _end(error: BaseException | None) -> None:
    token: Token[str | None] | None = g.pop("request_id_token", None)
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # set in another context (a server that moved the request)
            _current.set(None)


def init_app(app: Flask) -> None:
    """Call first: before-request hooks run in order, and one that refuses the request (a
    rate limit) must find the id already set, for its answer and its log lines."""
    app.before_request(_begin)
    app.after_request(_answer)
    app.teardown_request(_end)
