"""Why a delivery failed, in sentences staff can act on: never an exception's name or text.

What a library raises (`gaierror: [Errno -2] Name or service not known`, `SMTPAuthenticationError:
(535, b'...')`) tells a developer which line failed; the person reading a lead's deliveries needs to
know what went wrong and what to check. The outcome stores the sentence, so every screen, email
and API answer that shows `last_error` shows it.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from http import HTTPStatus
from http.client import HTTPException

# The first kind the error is an instance of says it: the narrower kinds come first.
EXPLANATIONS: list[tuple[type[BaseException], str]] = [
    (
        smtplib.SMTPAuthenticationError,
        "The mail server refused the user name or password in MAIL_URL.",
    ),
    (
        smtplib.SMTPRecipientsRefused,
        "The mail server refused the recipient's address: check it is spelled right.",
    ),
    (
        smtplib.SMTPSenderRefused,
        "The mail server refused the sender's address: check the workspace's sender email.",
    ),
    (
        smtplib.SMTPServerDisconnected,
        "The mail server closed the connection before the email was sent.",
    ),
    (smtplib.SMTPException, "The mail server refused the email."),
    (
        ssl.SSLCertVerificationError,
        "The server's certificate could not be verified: it may be expired or self-signed.",
    ),
    (ssl.SSLError, "A secure (TLS) connection to the server could not be made."),
    (TimeoutError, "The server did not answer in time."),
    (
        ConnectionRefusedError,
        "The server refused the connection: check that it is running on that port.",
    ),
    (ConnectionError, "The connection to the server broke before it answered."),
    (HTTPException, "The server's answer was not valid HTTP."),
    (socket.gaierror, "The server's address could not be found (DNS): check the host name."),
    (OSError, "The server could not be reached: check the address and that it is online."),
]


class Unresolvable(OSError):
    """The URL's host name has no address (DNS says it does not exist, or DNS is down)."""

    def __init__(self, host: str) -> None:
        super().__init__(f"cannot resolve {host}")
        self.host = host


class UnusableUrl(OSError):
    """A URL that does not parse (stored before a check existed, or MAIL_URL); its message is
    the sentence to show."""


def http_answer(status: int) -> str:
    """`HTTP 502 Bad Gateway — the server answered with an error`: the code, its name, and
    what it means for the delivery."""
    try:
        name = f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        name = f"HTTP {status}"
    if 200 <= status < 300:
        return f"{name} — delivered"
    if status == 410:
        return f"{name} — the receiver says this address is gone for good"
    if status in (401, 403):
        return f"{name} — the receiver refused it: check the secret or credentials it expects"
    if status == 429:
        return f"{name} — the receiver asked to slow down; it will be sent again later"
    if 300 <= status < 400:
        return f"{name} — the receiver redirects elsewhere: save the URL it redirects to"
    if 400 <= status < 500:
        return f"{name} — the receiver refused the request"
    return f"{name} — the server answered with an error"


def explain(error: BaseException) -> str:
    """A sentence saying why a webhook, email or text message did not go out, and what to
    check; the exception's own text stays in the log."""
    if isinstance(error, Unresolvable):
        return f"The address {error.host} could not be found (DNS): check the host name in the URL."
    if isinstance(error, UnusableUrl):
        return str(error)
    return next(
        (sentence for kind, sentence in EXPLANATIONS if isinstance(error, kind)),
        "The delivery failed for a reason we did not expect; it is in the server's log.",
    )
