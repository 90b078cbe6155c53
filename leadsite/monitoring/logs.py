"""Logging set-up: text by default, one JSON object per line with `LOG_FORMAT=json`.

Every record carries the request id (`request_ids.current()`, or one given in `extra`). In JSON
each request also logs one line when answered (`leadsite.requests`): gunicorn's access log
cannot say the request id.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, request
from werkzeug.wrappers import Response

from leadsite.monitoring import request_ids

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What every LogRecord has: anything else on a record came from `extra=` and is logged too.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}

requests_log = logging.getLogger("leadsite.requests")


class RequestIdFilter(logging.Filter):
    """Give every record the current request id, unless it names its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_ids.current()
        return True


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id", ...extra, "exception"}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(app: Flask) -> None:
    """Set up the root logger for this process once (text, or JSON), and the request lines."""
    root = logging.getLogger()
    if app.config.get("LOG_FORMAT") == "json":
        if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(JsonFormatter())
            handler.addFilter(RequestIdFilter())
            logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
        app.after_request(_log_request)
    else:
        logging.basicConfig(level=logging.INFO, format=TEXT_FORMAT)


def _log_request(response: Response) -> Response:
    started = g.get("request_started")
    # The endpoint, not the path: a hook URL's path holds its secret.
    requests_log.info(
        "%s %s %s",
        request.method,
        request.endpoint or "-",
        response.status_code,
        extra={
            "method": request.method,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        },
    )
    return response
