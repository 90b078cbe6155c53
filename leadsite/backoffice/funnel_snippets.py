"""Ready-to-copy snippets for an origin, with the real base URL and ref.

Server code (curl) names a secret key; code for web pages (JavaScript fetch) a publishable key
bound to the origin, the real one when there is one: a secret key in a page would let any
visitor read and erase every lead, and the API refuses it there. With a publishable key and an
allowed site, a curl command that runs as it is comes first: it sends the `Origin` header a
page of that site would, which is what the key asks for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from leadsite.api.cors import origin_allowed
from leadsite.models import Identifier, Origin, OriginKind

API_KEY_PLACEHOLDER = "YOUR_API_KEY"
PUBLISHABLE_KEY_PLACEHOLDER = "YOUR_PUBLISHABLE_KEY"


@dataclass(frozen=True)
class Snippet:
    key: str  # unique on the origin, for element ids
    label: str
    code: str
    language: str = "text"


def example_body(identifier: str) -> dict[str, str]:
    """A Kohomai-style registration body that satisfies the funnel's identifier."""
    body = {"Email": "johndoe@example.com", "Firstname": "John", "Lastname": "Doe"}
    if identifier == Identifier.PHONE:
        body["PhoneNumber"] = "+1 (800) 555-0175"
    elif identifier == Identifier.UNIQUE_ID:
        body["UniqueId"] = "customer-1234"
    return body


def example_site(allowed_domains: list[str]) -> str | None:
    """A site the allowed domains let in, for the `Origin` header of a ready-to-run request:
    the first one written plainly, else a wildcard made concrete (`https://*.example.com` →
    `https://www.example.com`, `http://localhost:*` → `http://localhost:3000`)."""
    for pattern in allowed_domains:
        site = pattern.strip().rstrip("/").replace("*.", "www.").replace(":*", ":3000")
        if "://" in site and "*" not in site and origin_allowed(site, allowed_domains):
            return site
    return None


def _curl(url: str, key: str, body: str, site: str | None = None) -> str:
    origin_line = f'  -H "Origin: {site}" \\\n' if site else ""
    return (
        f'curl -X POST "{url}" \\\n'
        f"{origin_line}"
        f'  -H "Authorization: Bearer {key}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'"
    )


def api_snippets(
    base_url: str,
    ref: str,
    identifier: str,
    publishable_key: str | None = None,
    allowed_domains: list[str] | None = None,
) -> list[Snippet]:
    url = f"{base_url}/api/v1/leads?ref={ref}"
    body = json.dumps(example_body(identifier), ensure_ascii=False)
    curl = _curl(url, API_KEY_PLACEHOLDER, body)
    fetch = (
        f"fetch('{url}', {{\n"
        "    method: 'POST',\n"
        "    headers: {\n"
        "        'Accept': 'application/json',\n"
        "        'Content-Type': 'application/json',\n"
        f"        'Authorization': 'Bearer {publishable_key or PUBLISHABLE_KEY_PLACEHOLDER}'\n"
        "    },\n"
        f"    body: JSON.stringify({body}) }})\n"
        "   .then(response => response.json())\n"
        "   .then(response => console.log(JSON.stringify(response)))"
    )
    snippets = [
        Snippet("curl", "curl, from your server (with a secret key)", curl, "shell"),
        Snippet(
            "fetch", "JavaScript fetch (in a web page, with a publishable key)", fetch, "javascript"
        ),
    ]
    site = example_site(allowed_domains or [])
    if publishable_key and site:
        ready = _curl(url, publishable_key, body, site)
        label = f"Ready to run: curl with the publishable key, as a page on {site}"
        snippets.insert(0, Snippet("try", label, ready, "shell"))
    return snippets


def origin_snippets(
    origin: Origin, base_url: str, publishable_keys: dict[str, str] | None = None
) -> list[Snippet]:
    """What to paste where for this origin; none for back-office and import origins.
    `publishable_keys`: the token of a publishable key bound to each origin that has one."""
    base_url = base_url.rstrip("/")
    ref = origin.ref
    match origin.kind:
        case OriginKind.API:
            key = (publishable_keys or {}).get(origin.id)
            return api_snippets(
                base_url, ref, origin.funnel.identifier, key, origin.allowed_domains
            )
        case OriginKind.PAGE:
            return [Snippet("link", "Link to the registration page", f"{base_url}/r/{ref}", "url")]
        case OriginKind.EMBED:
            script = (
                f'<script src="{base_url}/static/js/embed.js" '
                f'data-leadsite-ref="{ref}" async></script>'
            )
            iframe = (
                f'<iframe src="{base_url}/embed/{ref}" title="Sign up" width="100%" '
                'height="600" style="border:0"></iframe>'
            )
            return [
                Snippet("script", "Script (sizes the form to fit)", script, "html"),
                Snippet("iframe", "Plain iframe", iframe, "html"),
            ]
        case _:
            return []
