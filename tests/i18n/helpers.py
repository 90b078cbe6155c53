"""Helpers for the translation tests: a form origin in a language, a lead who registered in one."""

from __future__ import annotations

from typing import Any

from leadsite.extensions import db
from leadsite.models import Journey, Lead, Origin, OriginKind
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories


def form_origin(
    language: str | None = None, kind: OriginKind = OriginKind.PAGE, **settings: Any
) -> Origin:
    """A form origin of an active funnel named "Beta", in `language` (None: the browser's)."""
    funnel = factories.staged_funnel(
        factories.workspace("Acme"), name="Beta", **settings.pop("funnel", {})
    )
    if language is not None:
        settings["language"] = language
    return factories.origin(funnel, kind, settings=settings)


def registered_in(language: str, **fields: Any) -> tuple[Lead, Journey]:
    """A lead registered through the API door in `language`, with their journey."""
    origin = form_origin(funnel={"double_opt_in": fields.pop("double_opt_in", False)})
    fields.setdefault("email", "ada@example.com")
    fields.setdefault("first_name", "Ada")
    registration = register(origin, LeadInput(language=language, **fields), RegistrationContext())
    db.session.commit()
    return registration.lead, registration.journey
