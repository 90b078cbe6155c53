"""A local webhook receiver for benchmarks: answers 200 and records each POST's arrival time."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Arrival:
    at: float  # time.time() when the body was read
    webhook_id: str
    lead_id: str | None  # the payload's data.id


@dataclass
class Receiver:
    url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def snapshot(self) -> list[Arrival]:
        with self.lock:
            return list(self.arrivals)

    def clear(self) -> None:
        with self.lock:
            self.arrivals.clear()

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


@contextmanager
def receiver(delay: float = 0.0) -> Iterator[Receiver]:
    """A ThreadingHTTPServer on a free port of 127.0.0.1, until the block ends; each answer
    waits `delay` seconds first (a real receiver's work and network round trip)."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle's algorithm the body would wait
        # for the ACK of the headers, which a kept-alive client delays by up to 40 ms.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            at = time.time()
            try:
                lead_id = json.loads(body).get("data", {}).get("id")
            except (ValueError, AttributeError):
                lead_id = None
            with state.lock:
                state.arrivals.append(Arrival(at, self.headers.get("webhook-id", ""), lead_id))
            if delay:
                time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/leadsite"
    thread = threading.Thread(target=server.serve_forever, name="receiver", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
