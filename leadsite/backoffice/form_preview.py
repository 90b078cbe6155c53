"""The form builder's preview: the public form as the builder has it, saved or not, every step."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from leadsite.backoffice.funnel_origin_forms import OriginForm
from leadsite.public.fields import settings_of
from leadsite.public.pages import FormPage, form_context
from leadsite.public.submission import Attribution


def form_preview(form: OriginForm) -> Markup:
    """A whole public page (for an iframe's `srcdoc`: the public styles, none of ours) showing
    each step of the form one under the other, as a lead would meet them."""
    specs, texts = form.form_fields(), form.preview_settings()
    settings = settings_of(form.origin, specs, texts, form.funnel, warn=False)
    steps = []
    for step in range(settings.step_count):
        page = FormPage(settings, "#", "", Attribution(), False, step=step, preview=True)
        steps.append(Markup(render_template("public/_form.html", **form_context(page))))
    return Markup(
        render_template("backoffice/funnels/form_preview.html", settings=settings, steps=steps)
    )
