"""The webhook HTTP client keeps one connection per host, and recovers when a server drops it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from leadsite.outbox import http


@dataclass
class KeepAliveServer:
    url: str = ""
    client_ports: list[int] = field(default_factory=list)  # one per request: its connection


@contextmanager
def keep_alive_server(drop_idle: bool = False, answer: bytes = b"ok") -> Iterator[KeepAliveServer]:
    """An HTTP/1.1 server; with `drop_idle` it closes each connection after answering, without
    saying so (as a server timing out an idle connection does)."""
    state = KeepAliveServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.client_ports.append(self.client_address[1])
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            self.close_connection = drop_idle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _post_three(url: str) -> list[http.HttpResult]:
    with http.Client(timeout=5, allow_private=True) as client:
        return [client.post(url, b"{}", {"Content-Type": "application/json"}) for _ in range(3)]


def test_posts_to_one_host_share_one_connection():
    with keep_alive_server() as server:
        results = _post_three(server.url)

    assert [(result.status, result.body) for result in results] == [(200, "ok")] * 3
    assert len(server.client_ports) == 3 and len(set(server.client_ports)) == 1


def test_a_connection_the_server_dropped_is_opened_again_and_the_post_sent_once():
    with keep_alive_server(drop_idle=True) as server:
        results = _post_three(server.url)

    assert [result.status for result in results] == [200] * 3
    assert len(server.client_ports) == 3 and len(set(server.client_ports)) == 3


def test_a_long_answer_is_cut_to_an_excerpt_and_its_connection_not_kept():
    with keep_alive_server(answer=b"x" * (http.MAX_DRAINED_BYTES * 2)) as server:
        results = _post_three(server.url)

    assert [len(result.body) for result in results] == [http.MAX_RESPONSE_BYTES] * 3
    assert len(set(server.client_ports)) == 3


def test_a_private_address_is_refused_before_connecting():
    with keep_alive_server() as server, pytest.raises(http.RefusedAddress, match="non-public"):
        http.Client(timeout=5, allow_private=False).post(server.url, b"{}", {})

    assert server.client_ports == []
