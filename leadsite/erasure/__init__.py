"""Erasure: a lead's personal data removed or redacted everywhere it was copied.

`erase_lead` empties the lead's row and its copies in the database (`records`); the uploaded
import files that name the lead are redacted once the transaction commits (`files`). A module
that stores a new copy of lead data registers a function with `@eraser` to redact its own.
"""

from __future__ import annotations

from leadsite.erasure.records import Traces, erase_lead, eraser

__all__ = ["Traces", "erase_lead", "eraser"]
