"""A URL converter for a path segment that is any value but a sibling route's own word."""

from __future__ import annotations

import re

from werkzeug.routing import BaseConverter, Map


class NotConverter(BaseConverter):
    """`<not(batch):lead_id>`: any segment but `batch`. Without it `GET /api/v1/leads/batch`
    matched `/leads/<lead_id>` (404 "No such lead") where the word's own rule, POST only,
    should answer 405 with its `Allow`."""

    def __init__(self, map: Map, *words: str) -> None:
        super().__init__(map)
        self.regex = f"(?!(?:{'|'.join(re.escape(word) for word in words)})$)[^/]+"
