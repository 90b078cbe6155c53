"""Real servers and clients for tests: the app on a real port, an HTTP receiver for webhooks, an
SMTP server (aiosmtpd), and curl run as a shell would."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """`app` on 127.0.0.1 and a free port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, _ClosingResponses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _ClosingResponses:
    """Closes every response once the server lets go of it. Werkzeug's server skips `close()`
    when reading what is left of a connection the client reset raises (serving.py, the
    `finally` of `run_wsgi`), which left a static file open; its ResourceWarning, raised when
    the file was collected, failed whichever test was running then."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> _Closing:
        return _Closing(self.app(environ, start_response))


class _Closing:
    def __init__(self, response: Iterable[bytes]) -> None:
        self.response = response
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.response)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            getattr(self.response, "close", lambda: None)()

    def __del__(self) -> None:
        self.close()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """Answers each POST with the next status of `statuses` (the last one repeats)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests


@contextmanager
def webhook_receiver(**options: object) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(url="", **options)  # type: ignore[arg-type]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:  # recorded on arrival: a test can act while the sender waits
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                index = min(len(receiver.requests), len(receiver.statuses)) - 1
                status = receiver.statuses[index]
            if receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(f"status {status}".encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 10) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on a free port; yields the mailbox and the port."""
    mailbox = Mailbox()

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope) -> str:
            mailbox.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 Message accepted for delivery"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# How long a process of the app (a server, a worker) may take to start: importing the app is
# about 2 s of CPU, which took 8-25 s at load 12 on the 2-core CI machine. Only the start waits
# this long; what a test then times is the work, from the moment the process is up.
PROCESS_START_SECONDS = 120


def eventually(check: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def run_curl(command: str) -> dict:
    """Run a curl command line as printed (in `sh`) and read its JSON answer."""
    result = subprocess.run(
        ["sh", "-c", command + " --silent --show-error --max-time 20"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)
