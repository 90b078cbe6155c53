"""The README's webhook verification, run as printed against webhooks as a receiver gets them:
a customer who follows its words alone must be able to verify what we send."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from leadsite.models import utcnow
from leadsite.outbox import worker
from tests import factories
from tests.outbox.test_webhook_delivery import SECRET, _endpoint, _register
from tests.servers import webhook_receiver

README = Path(__file__).resolve().parents[2] / "README.md"
OLD = "whsec_b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZC1zZWNyZXQ="
OTHER = "whsec_c29tZW9uZS1lbHNlcy1zZWNyZXQtc29tZW9uZS1lbHNlcw=="


def _readme_verify() -> Callable[..., bool]:
    """The `verify` function of the README's "Verifying a webhook", as printed."""
    section = README.read_text().split("**Verifying a webhook**", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code, "the README shows no Python for verifying a webhook"
    namespace: dict = {}
    exec(textwrap.dedent(code.group(1)), namespace)  # our own README's example, as printed
    return namespace["verify"]


def test_the_readmes_verification_accepts_what_we_send_and_nothing_else():
    verify = _readme_verify()
    ws = factories.workspace()
    with webhook_receiver() as receiver:
        _endpoint(
            ws,
            receiver.url,
            previous_secret=OLD,
            previous_secret_expires_at=utcnow() + timedelta(hours=1),
        )
        _register(ws)
        worker.run_once()
        received = receiver.wait_for(1)[0]
    headers = {name.lower(): value for name, value in received.headers.items()}

    assert verify(SECRET, headers, received.body)
    assert verify(OLD, headers, received.body)  # during a rotation, either secret
    assert not verify(SECRET, headers, received.body.replace(b"hook@", b"hack@"))
    assert not verify(OTHER, headers, received.body)
    stale = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 600)}
    assert not verify(SECRET, stale, received.body)
