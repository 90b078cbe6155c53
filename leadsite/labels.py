"""Words staff read for the codes rows store: origin kinds, the doors of the ingestion log, HTTP
statuses. A screen shows `Back-office`, never `backoffice`, and `HTTP 502 Bad Gateway — the
server answered with an error`, never a bare `502`."""

from __future__ import annotations

from http import HTTPStatus

from leadsite.outbox.failures import http_answer

ORIGIN_KINDS = {
    "api": "API",
    "page": "Hosted page",
    "embed": "Embedded form",
    "backoffice": "Back-office",
    "import": "CSV import",
}
MESSAGE_STATES = {
    "pending": "Will be tried again",
    "delivered": "Delivered",
    "dead": "Given up",
}
DOORS = {
    "leadsite": "API",
    "form": "Form",
    "hook": "Incoming webhook",
    "chatbot": "Chatbot API",
    "kickofflabs": "KickoffLabs API",
    "kohomai": "Kohomai API",
    "vcita": "vcita API",
}


def message_state(status: str | None) -> str:
    """Where an outbox message stands: `dead` is the outbox's word, not a reader's."""
    return MESSAGE_STATES.get(status or "", status or "")


def message_progress(status: str | None, attempts: int) -> str:
    """Where a message stands and how many attempts it took: "Delivered after 1 attempt", but
    "Will be tried again (2 attempts so far)", never "will be tried again after 2 attempts",
    which reads as if two more attempts came first."""
    count = f"{attempts} attempt{'' if attempts == 1 else 's'}"
    if status == "pending":
        return f"{message_state(status)} ({count} so far)"
    return f"{message_state(status)} after {count}"


def origin_kind(kind: str | None) -> str:
    return ORIGIN_KINDS.get(kind or "", kind or "")


def door(dialect: str | None) -> str:
    return DOORS.get(dialect or "", dialect or "")


def http_status(status: int | None) -> str:
    """`HTTP 422 Unprocessable Content`: the code with its name, for an answer we gave."""
    if not status:
        return ""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def receiver_answer(status: int | None) -> str:
    """What a webhook's receiver answered, and what it means; empty when nothing came back."""
    return http_answer(status) if status else ""


FILTERS = {
    "message_state": message_state,
    "message_progress": message_progress,
    "origin_kind": origin_kind,
    "door": door,
    "http_status": http_status,
    "receiver_answer": receiver_answer,
}
