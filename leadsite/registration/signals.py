"""What the pipeline tells the rest of the app in-process, so that it imports none of it: a
registration written. A receiver is connected when its module is imported (the app factory
imports them all) and writes what it adds in the registration's transaction, never commits."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by `after_write()` for every registration, the lead as sender and `journey=` its journey
# (public/confirm.py queues the double opt-in email on it).
lead_registered = _signals.signal("lead-registered")
