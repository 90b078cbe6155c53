"""Another website for browser tests: pages served from another port, as a customer's site."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Site:
    """Serves `pages[path]` (the query string is ignored) at `url` until the context ends."""

    url: str = ""
    pages: dict[str, str] = field(default_factory=dict)


@contextmanager
def third_party_site(host: str = "127.0.0.1") -> Iterator[Site]:
    site = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site.pages.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    site.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def embed_page(base_url: str, *refs: str, title: str = "Acme blog") -> str:
    """A customer's page with the embed.js tag of each origin, text around them."""
    tags = "\n".join(
        f'<section><script src="{base_url}/static/js/embed.js" data-leadsite-ref="{ref}" async>'
        "</script></section>"
        for ref in refs
    )
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<h1>{title}</h1><p>Before the form.</p>{tags}<p id='after'>After the form.</p>"
        "</body></html>"
    )
