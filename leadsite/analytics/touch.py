"""What a registration brought, for attribution: the journey's first and last touch, and the
registration counted on its origin."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from leadsite.analytics.counter_writer import CountKey, writer
from leadsite.analytics.counters import count, key, referrer_host
from leadsite.models import FormEvent, Journey, Origin

if TYPE_CHECKING:
    from leadsite.registration.inputs import RegistrationContext
    from leadsite.registration.validate import CleanLead

UTM_TOUCH = ("utm_source", "utm_medium", "utm_campaign")


def touch(journey: Journey, cleaned: CleanLead, context: RegistrationContext, first: bool) -> None:
    """Record a registration into `journey` (`first` when it made the journey).

    The UTM values are the registration's own, else those of its page's URL (`clean` merged
    them); the referrer is the page that led to it. A later registration that brings none of
    them (an API update, a back-office edit) leaves the last touch as it was, as "last
    non-direct" attribution does. The share code is the first known one."""
    host = referrer_host(context.referrer) or None
    utm = {name: cleaned.fields.get(name) for name in UTM_TOUCH}
    if first:
        journey.referrer_host = host
        for name, value in utm.items():
            setattr(journey, name, value)
    if host or any(utm.values()):
        journey.last_referrer_host = host
        for name, value in utm.items():
            setattr(journey, f"last_{name}", value)
    if cleaned.share_code and not journey.share_code:
        journey.share_code = cleaned.share_code


def count_registrations(
    origin: Origin, registrations: list[tuple[CleanLead, RegistrationContext, bool]]
) -> None:
    """Count each (cleaned, context, created) of a committed batch on its origin: new, or of a
    lead known already. The key of each distinct referrer, campaign and kind is made once (an
    import's rows share them; making each row's again was a twenty-fifth of a chunk's CPU),
    so the batch's counts fall on one UTC day, as it commits at once."""
    queue = writer()
    if queue is None:
        return
    keys: dict[tuple[str | None, str, bool], CountKey] = {}
    for cleaned, context, created in registrations:
        campaign = cleaned.fields.get("utm_campaign") or ""
        which = (context.referrer, campaign, created)
        known = keys.get(which)
        if known is None:
            event = FormEvent.REGISTERED_NEW if created else FormEvent.REGISTERED_RETURNING
            host = referrer_host(context.referrer)
            known = keys[which] = key(origin, event, "", host, campaign)
        queue.add(known)


def count_api_invalid(origin: Origin, fields: list[str]) -> None:
    """Count a call an API door refused with 422 as the forms count theirs: an `invalid` per
    failing field, named by its top-level input (`journey_data[0].value` -> `journey_data`),
    once each; '' (the form as a whole) when no field is named."""
    names = sorted({re.split(r"[.\[]", name, maxsplit=1)[0] for name in fields if name})
    for name in names or [""]:
        count(origin, FormEvent.INVALID, field=name)
