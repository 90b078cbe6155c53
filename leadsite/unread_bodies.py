"""WSGI middleware that reads what is left of a request's body once the app has answered, so
that a refusal decided before the body was read keeps the client's connection usable."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# The most read after an answer: past a few bodies the size of the largest the app takes
# (a batch, 8 MiB), the connection closes as gunicorn closes it.
DRAIN_LIMIT = 16 * 1024 * 1024
CHUNK = 64 * 1024


class ReadUnreadBodies:
    """After the app's answer, reads and drops the rest of the request's body: a 413 for a body
    over an endpoint's limit, a 401, 404, 415 or 429 decided from the URL and headers leave it
    unread. Gunicorn answers such a request `Connection: keep-alive`, then reads at most 64 KiB
    of the rest and, if more is left, closes the connection; the client's next request on it
    fails (requests and urllib3 raise ConnectionError for a POST, which they do not retry),
    and a client still sending gets a reset instead of the answer.

    Only where the server marks its input as ending with the body (`wsgi.input_terminated`,
    which gunicorn sets): elsewhere reading to the end could wait on the next request."""

    def __init__(self, app: Callable[..., Iterable[bytes]], limit: int = DRAIN_LIMIT) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        response = self.app(environ, start_response)
        if environ.get("wsgi.input_terminated") and _may_have_body(environ):
            _read_to_end(environ["wsgi.input"], self.limit)
        return response


def _may_have_body(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH") or "0"
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or length != "0"


def _read_to_end(stream: Any, limit: int) -> None:
    read = 0
    try:
        while read < limit:
            chunk = stream.read(min(CHUNK, limit - read))
            if not chunk:
                return
            read += len(chunk)
    except Exception:
        # The client went away (OSError) or sent a malformed chunk (the server's own parse
        # error): the server closes the connection, which is all there is left to do.
        return
