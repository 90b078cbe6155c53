"""Allowed sites of an origin: patterns such as `https://*.example.com` or `http://localhost:*`."""

from __future__ import annotations

import re

LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN_PATTERN = re.compile(
    rf"(?P<scheme>https?)://(?P<wild>\*\.)?(?P<host>{LABEL}(?:\.{LABEL})*)(?::(?P<port>\d{{1,5}}|\*))?"
)


def domain_problem(pattern: str) -> str | None:
    """Why `pattern` is not a valid allowed domain (scheme://host[:port|:*]), or None."""
    candidate = pattern.lower().rstrip("/")
    match = DOMAIN_PATTERN.fullmatch(candidate)
    if match is None:
        if candidate in ("*", "*://*", "http://*", "https://*"):
            return f"“{pattern}” would let every site in: list the sites one by one"
        if "://" not in candidate:
            return f"“{pattern}” needs its scheme: write https://{pattern.strip('/')}"
        scheme, _, rest = candidate.partition("://")
        if scheme not in ("http", "https"):
            return f"“{pattern}”: only http:// and https:// sites can be allowed"
        if "/" in rest or "?" in rest or "#" in rest:
            return f"“{pattern}”: no path; write only scheme://host[:port]"
        if "*" in rest:
            return f"“{pattern}”: * may only start the host (https://*.example.com) or be the port"
        return f"“{pattern}” is not scheme://host[:port]"
    port = match["port"]
    if port and port != "*" and not 0 < int(port) < 65536:
        return f"“{pattern}”: the port must be 1 to 65535"
    if match["wild"] and "." not in match["host"]:
        return f"“{pattern}”: *. must be followed by a domain such as example.com"
    return None
