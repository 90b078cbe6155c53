"""POST to webhook URLs safely: no redirects, a timeout, and no private addresses.

The URL is read by `values.parse_url` (the host IDNA-encoded, as the resolver sees it); the host
is resolved once per connection, every address it resolves to is checked, and the connection goes
to the checked address (TLS still verifies the name), so a DNS answer cannot change in between.
`refusal()` runs the same checks when a webhook URL is saved. A `Client` keeps one connection
per host open for the POSTs it sends in turn (a batch's share of one worker thread), each pinned
to the address checked when it was opened.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from functools import cache
from types import TracebackType
from urllib.parse import quote

from leadsite import values
from leadsite.outbox.failures import Unresolvable, UnusableUrl

MAX_RESPONSE_BYTES = 4096
TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"
# A longer answer is not read to its end: the connection is closed instead of kept.
MAX_DRAINED_BYTES = 65536
METADATA_HOSTS = {"metadata.google.internal", "metadata"}
# IPv6 ranges that carry an IPv4 address (NAT64, and the deprecated IPv4-compatible ::a.b.c.d).
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# What a server's closing of an idle kept-alive connection looks like to the next request.
STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class RefusedAddress(Exception):
    """The URL points at a loopback, private, link-local or metadata address."""


@dataclass
class HttpResult:
    status: int
    body: str
    duration_ms: int
    headers: list[tuple[str, str]] = field(default_factory=list)


@cache
def _own_names() -> frozenset[str]:
    """This machine's names: a webhook must not call the server that sends it."""
    names = {socket.gethostname(), socket.getfqdn()}
    return frozenset(n.lower().rstrip(".") for n in names if n)


def _name_refusal(host: str) -> str | None:
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return f"{host} is this machine"
    if name in METADATA_HOSTS:
        return f"{host} is a metadata address"
    if name in _own_names() or name in {n.split(".")[0] for n in _own_names()}:
        return f"{host} is this machine's name"
    return None


def is_public_address(address: str) -> bool:
    """True for a global address; an IPv6 address carrying an IPv4 one (mapped, compatible,
    NAT64, 6to4, Teredo) is judged by that IPv4 address too."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if not ip.is_global:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        carried = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        if ip in NAT64 or ip in IPV4_COMPATIBLE:
            carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return all(v4 is None or v4.is_global for v4 in carried) and ip not in IPV4_COMPATIBLE
    return True


def _addresses(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Unresolvable(host) from None
    return [info[4][0] for info in infos]


def _checked_addresses(host: str, port: int) -> list[str]:
    if (refused := _name_refusal(host)) is not None:
        raise RefusedAddress(refused)
    addresses = _addresses(host, port)
    for address in addresses:
        if not is_public_address(address):
            raise RefusedAddress(f"{host} resolves to a non-public address ({address})")
    return addresses


def refusal(url: values.Url) -> str | None:
    """Why webhooks to `url` would be refused, for the forms and the API that save one: the
    checks the connection makes, on the same host. A name that does not resolve now passes
    (DNS may be down for a moment); the check at connect time stays."""
    try:
        _checked_addresses(url.host, url.effective_port)
    except RefusedAddress as error:
        return str(error)
    except OSError:
        return None
    return None


def _resolve(host: str, port: int, allow_private: bool) -> str:
    if allow_private:
        return _addresses(host, port)[0]
    return _checked_addresses(host, port)[0]


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
        try:
            parts = values.parse_url(url)
        except values.Invalid as error:
            raise UnusableUrl(f"The URL {error}: correct it in the webhook's settings.") from None
        port = parts.effective_port
        key = (parts.scheme, parts.host, port)
        # http.client sends the target as ASCII: a stored IRI's other characters go %-encoded.
        path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), TARGET_SAFE)
        headers = {"Host": parts.netloc, **headers}
        connection = self._connections.get(key)
        if connection is not None and connection.sock is not None:
            try:
                return self._send(key, connection, path, body, headers)
            except STALE_CONNECTION_ERRORS:
                # The server closed it while idle, before answering this request (`_send`
                # dropped it): a new connection, checked again, sends it once more.
                pass
        connection = self._open(parts.scheme, parts.host, port)
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
        duration_ms = int((time.monotonic() - started) * 1000)
        return HttpResult(response.status, excerpt, duration_ms, response.getheaders())

    def _drop(self, key: tuple[str, str, int]) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()
