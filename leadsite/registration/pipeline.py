"""`register()`: the one function every door calls to register a lead, in one transaction.

It is a batch of one (`registration.batch`): one implementation of the rules for every door.
"""

from __future__ import annotations

from leadsite.registration.batch import register
from leadsite.registration.steps import MAX_ATTEMPTS, Registration, check_open

__all__ = ["MAX_ATTEMPTS", "Registration", "check_open", "register"]
