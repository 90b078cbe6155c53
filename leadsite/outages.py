"""Answers while the database is unreachable: 503 with `Retry-After`, never a 500 or a hang.

A refused connection, a connection killed by a restart (PostgreSQL terminating its backends),
a connect or statement timeout, an exhausted pool, SQLite unable to open its file or kept
waiting past its busy timeout: each reaches the view as an `OperationalError` (or the pool's
`TimeoutError`). Nothing the request did was committed, so the client may simply try again:
the API says so in its error envelope, a browser gets a page that says it, htmx a flash.
"""

from __future__ import annotations

import logging
import sqlite3

from flask import Flask, current_app, g
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.wrappers import Response

from leadsite.errors import api_error, error_page, wants_json
from leadsite.extensions import db

log = logging.getLogger(__name__)

MESSAGE = "The service is briefly unavailable. Try again in a few seconds."


# SQLite raises `OperationalError` for its own unavailability and for a statement the schema
# does not fit (a missing column or table, as a release's code against a schema that dropped
# what it reads): only these messages are the database being away.
SQLITE_OUTAGES = ("database is locked", "unable to open database", "disk i/o error")


def is_outage(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached or did not answer in time."""
    if isinstance(error, PoolTimeoutError):
        return True
    if isinstance(error, OperationalError):
        if isinstance(error.orig, sqlite3.OperationalError):
            return str(error.orig).lower().startswith(SQLITE_OUTAGES)
        return True
    # A connection that broke mid-statement, whatever class the driver gave its error.
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def database_unavailable(error: Exception) -> Response:
    """The 503 answer to a database outage, in the caller's language."""
    if not is_outage(error):
        raise error  # another database error: the app's usual handling (a 500, logged)
    forget_the_transaction(error)
    if wants_json():
        response = api_error(503, MESSAGE, "SERVICE_UNAVAILABLE")
    else:
        response = error_page(503, MESSAGE, title="Briefly unavailable", anonymous=True)
    return unavailable(response)


def forget_the_transaction(error: Exception) -> None:
    """Log the outage in a line and drop what the session held (nothing was committed)."""
    log.warning("database unavailable: %s", str(error).splitlines()[0][:300])
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the pool drops it
        db.session.invalidate()


def unavailable(response: Response) -> Response:
    """Mark `response` as an outage's answer: it will carry this app's `Retry-After`."""
    g.outage = True
    return response


def _say_when_to_retry(response: Response) -> Response:
    if g.pop("outage", False):
        response.headers["Retry-After"] = str(current_app.config["OUTAGE_RETRY_AFTER"])
    return response


def init_app(app: Flask) -> None:
    """Call before `limiter.init_app`: after-request hooks run last registered first, and the
    limiter's sets Retry-After to its window's reset (up to a minute), which must not stand
    for an outage of seconds."""
    app.register_error_handler(DBAPIError, database_unavailable)
    app.register_error_handler(PoolTimeoutError, database_unavailable)
    app.after_request(_say_when_to_retry)
