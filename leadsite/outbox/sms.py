"""SMS providers. The default writes to the log; add a real one by implementing `SmsProvider`
and naming it in `SMS_PROVIDER` (a dotted path to a class taking the app config)."""

from __future__ import annotations

import importlib
import logging
from typing import Protocol

from flask import current_app

log = logging.getLogger(__name__)


class SmsProvider(Protocol):
    def send(self, to: str, text: str) -> str:
        """Send `text` to the E.164 number `to`; return the provider's reference; raise on
        failure (the worker retries)."""


class LoggingSmsProvider:
    def __init__(self, config: dict | None = None) -> None:
        self.config = config or {}

    def send(self, to: str, text: str) -> str:
        log.info("SMS to %s: %s", to, text)
        return "logged"


def provider() -> SmsProvider:
    path = current_app.config.get("SMS_PROVIDER")
    if not path:
        return LoggingSmsProvider()
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)(current_app.config)
