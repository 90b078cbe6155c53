"""POST to webhook URLs safely: no redirects, a timeout, and no private addresses.

The host name is resolved once per connection, every address it resolves to is checked, and the
connection goes to the checked address (TLS still verifies the name), so a DNS answer cannot
change in between. A `Client` keeps one connection per host open for the POSTs it sends in turn
(a batch's share of one worker thread), each pinned to the address checked when it was opened.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

MAX_RESPONSE_BYTES = 4096
# A longer answer is not read to its end: the connection is closed instead of kept.
MAX_DRAINED_BYTES = 65536
METADATA_HOSTS = {"metadata.google.internal", "metadata"}
# What a server's closing of an idle kept-alive connection looks like to the next request.
STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class RefusedAddress(Exception):
    """The URL points at a loopback, private, link-local or metadata address."""


@dataclass
class HttpResult:
    status: int
    body: str
    duration_ms: int


def _resolve(host: str, port: int, allow_private: bool) -> str:
    if host.lower().rstrip(".") in METADATA_HOSTS and not allow_private:
        raise RefusedAddress(f"{host} is a metadata address")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise OSError(f"cannot resolve {host}: {error}") from None
    addresses = [info[4][0] for info in infos]
    if not allow_private:
        for address in addresses:
            if not ipaddress.ip_address(address.split("%")[0]).is_global:
                raise RefusedAddress(f"{host} resolves to a non-public address ({address})")
    return addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a given IP address, verifying the certificate for the URL's host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Client:
    """Sends POSTs one after another, reusing one kept-alive connection per (scheme, host, port).

    Not for sharing between threads; close it (or use it as a context manager) when done.
    """

    def __init__(self, timeout: float, allow_private: bool) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
        """Send one POST; raises RefusedAddress or OSError when no answer came back."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OSError(f"not an http(s) URL: {url}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, parts.hostname, port)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        headers = {"Host": host_header, **headers}
        connection = self._connections.get(key)
        if connection is not None and connection.sock is not None:
            try:
                return self._send(key, connection, path, body, headers)
            except STALE_CONNECTION_ERRORS:
                # The server closed it while idle, before answering this request (`_send`
                # dropped it): a new connection, checked again, sends it once more.
                pass
        connection = self._open(parts.scheme, parts.hostname, port)
        self._connections[key] = connection
        return self._send(key, connection, path, body, headers)

    def _open(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        address = _resolve(host, port, self.allow_private)
        if scheme == "https":
            return _PinnedHTTPSConnection(host, address, port, self.timeout)
        return http.client.HTTPConnection(address, port, timeout=self.timeout)

    def _send(
        self,
        key: tuple[str, str, int],
        connection: http.client.HTTPConnection,
        path: str,
        body: bytes,
        headers: dict[str, str],
    ) -> HttpResult:
        started = time.monotonic()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
            if not response.isclosed():
                response.read(MAX_DRAINED_BYTES)
            if not response.isclosed():
                self._drop(key)  # the rest of a long answer is not worth reading
        except BaseException:
            self._drop(key)
            raise
        return HttpResult(response.status, excerpt, int((time.monotonic() - started) * 1000))

    def _drop(self, key: tuple[str, str, int]) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()
