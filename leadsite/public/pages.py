"""Rendering lead-facing pages: a whole page, or only the form region for public-form.js."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import make_response, render_template, request
from werkzeug.wrappers import Response

from leadsite.public.fields import FormField, FormSettings
from leadsite.public.form_logic import describe, visible
from leadsite.public.submission import CONSENT, Attribution

if TYPE_CHECKING:
    from leadsite.public.beacon import Beacon

FRAGMENT_HEADER = "X-Leadsite-Fragment"


def wants_fragment() -> bool:
    """public-form.js posts with this header and swaps only the form region in."""
    return request.headers.get(FRAGMENT_HEADER) == "1"


@dataclass
class Done:
    """What a lead sees after sending the form, and where they go next."""

    heading: str
    paragraphs: list[str]
    redirect: str | None = None


@dataclass
class Closed:
    title: str
    message: str


@dataclass
class FormPage:
    """Everything the form templates show."""

    settings: FormSettings
    action: str
    token: str
    attribution: Attribution
    embed: bool
    values: dict[str, str] = field(default_factory=dict)
    consent: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    form_errors: list[str] = field(default_factory=list)
    done: Done | None = None
    closed: Closed | None = None
    parent_origin: str | None = None
    embed_script: bool = False
    refresh_to: str | None = None
    beacon: Beacon | None = None  # where the form's start is counted (a page as first shown)
    step: int = 0  # of a multi-step form, from 0
    preview: bool = False  # the builder's: every field shows, with its condition's note

    @property
    def last_step(self) -> bool:
        return self.step >= self.settings.step_count - 1

    @property
    def fields(self) -> list[FormField]:
        """The inputs of this step: a field whose condition an earlier step's answer decides
        shows only when it holds; one decided on this step shows (with its note)."""
        shown = visible(self.settings.fields, self.values, open_step=self.step)
        on_step = self.settings.on_step(self.step)
        return on_step if self.preview else [item for item in on_step if item.name in shown]

    @property
    def carried(self) -> list[tuple[str, str]]:
        """The answers of the other steps, sent again as hidden inputs with this one."""
        here = {item.name for item in self.settings.on_step(self.step)}
        pairs = [(name, value) for name, value in self.values.items() if name not in here]
        if self.consent and not self.last_step:
            pairs.append((CONSENT, "on"))
        return pairs

    @property
    def notes(self) -> dict[str, str]:
        """ "Only if ..." under each field whose condition is decided on this step."""
        here = {item.name for item in self.settings.on_step(self.step)}
        return {
            item.name: describe(item.condition, self.settings.fields)
            for item in self.fields
            if item.condition is not None and (self.preview or item.condition.field in here)
        }

    @property
    def first_error(self) -> str | None:
        for item in self.fields:
            if item.name in self.errors:
                return item.name
        return CONSENT if CONSENT in self.errors else None


def form_context(page: FormPage) -> dict[str, Any]:
    """What the form templates read."""
    return {
        **page.__dict__,
        "first_error": page.first_error,
        "fields": page.fields,
        "carried": page.carried,
        "notes": page.notes,
        "last_step": page.last_step,
    }


def render_form(page: FormPage, status: int = 200) -> Response:
    """The form page (hosted or embed), or only its region when public-form.js asked."""
    context = form_context(page)
    if wants_fragment():
        body = render_template("public/_form.html", **context)
    else:
        template = "public/embed.html" if page.embed else "public/page.html"
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add(FRAGMENT_HEADER)
    response.headers["Cache-Control"] = "no-store"  # the page carries a fresh token
    return response


def message_page(
    status: int,
    title: str,
    paragraphs: Sequence[str],
    embed: bool = False,
    action: str | None = None,
    action_label: str = "",
    hidden: Sequence[tuple[str, str]] = (),
    link: str | None = None,
    link_label: str | None = None,
) -> Response:
    """A page with a message for a lead (closed, confirmed, unsubscribed, expired...), with at
    most one button (a POST to `action`) and one link."""
    if wants_fragment():
        body = render_template(
            "public/_form.html", closed=Closed(title, " ".join(paragraphs)), done=None
        )
    else:
        body = render_template(
            "public/message.html",
            title=title,
            paragraphs=list(paragraphs),
            embed=embed,
            action=action,
            action_label=action_label,
            hidden=list(hidden),
            link=link,
            link_label=link_label,
        )
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response
