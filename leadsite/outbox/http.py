"""POST to a webhook URL safely: no redirects, a timeout, and no private addresses.

The host name is resolved once, every address it resolves to is checked, and the connection goes
to the checked address (TLS still verifies the name), so a DNS answer cannot change in between.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_RESPONSE_BYTES = 4096
METADATA_HOSTS = {"metadata.google.internal", "metadata"}


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


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float, allow_private: bool
) -> HttpResult:
    """Send one POST; raises RefusedAddress or OSError when nothing could be sent."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OSError(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _resolve(parts.hostname, port, allow_private)
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(
            parts.hostname, address, port, timeout
        )
    else:
        connection = http.client.HTTPConnection(address, port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers={"Host": host_header, **headers})
        response = connection.getresponse()
        excerpt = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
        return HttpResult(response.status, excerpt, int((time.monotonic() - started) * 1000))
    finally:
        connection.close()
