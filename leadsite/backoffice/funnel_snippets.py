"""Ready-to-copy snippets for an origin, with the real base URL and ref.

Server code (curl) names a secret key; code for web pages (JavaScript fetch) a publishable key
bound to the origin, the real one when there is one: a secret key in a page would let any
visitor read and erase every lead, and the API refuses it there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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


def api_snippets(
    base_url: str, ref: str, identifier: str, publishable_key: str | None = None
) -> list[Snippet]:
    url = f"{base_url}/api/v1/leads?ref={ref}"
    body = json.dumps(example_body(identifier), ensure_ascii=False)
    curl = (
        f'curl -X POST "{url}" \\\n'
        f'  -H "Authorization: Bearer {API_KEY_PLACEHOLDER}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'"
    )
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
    return [
        Snippet("curl", "curl", curl, "shell"),
        Snippet(
            "fetch", "JavaScript fetch (in a web page, with a publishable key)", fetch, "javascript"
        ),
    ]


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
            return api_snippets(base_url, ref, origin.funnel.identifier, key)
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
