"""Helpers for the public pages' tests: tokens as a page hands them out, forms as browsers send."""

from __future__ import annotations

import re
import time

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from leadsite.public.tokens import form_token

TOKEN_INPUT = re.compile(r'name="_token" value="([^"]+)"')


def aged_token(ref: str, seconds: float = 30) -> str:
    """A form token issued `seconds` ago: past the minimum fill time."""
    return form_token(ref, time.time() - seconds)


def page_token(response: TestResponse) -> str:
    match = TOKEN_INPUT.search(response.get_data(as_text=True))
    assert match, "no form token on the page"
    return match.group(1)


def post_form(
    client: FlaskClient, path: str, ref: str, fragment: bool = False, **fields: str
) -> TestResponse:
    """POST a public form with a token old enough, as a person who took their time would."""
    headers = {"X-Leadsite-Fragment": "1"} if fragment else {}
    data = {"_token": aged_token(ref), "website": "", **fields}
    return client.post(
        path, data=data, headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
