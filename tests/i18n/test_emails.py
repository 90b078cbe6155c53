"""Emails to a lead arrive at a real SMTP server in the language the lead registered in, with
dates written that language's way."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import Message

import pytest

from leadsite.extensions import db
from leadsite.journeys.sign_ins import email_sign_in_link
from leadsite.models import ActivityKind
from leadsite.outbox import worker
from leadsite.public.emails import queue_journey_link
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.i18n.helpers import registered_in
from tests.servers import smtp_server


def delivered(app, count: int = 1) -> list[Message]:
    """Run the worker (due steps, then their emails) until `count` emails reach the server."""
    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            for _ in range(3):
                worker.run_once()
        finally:
            app.config["MAIL_URL"] = None
        return mailbox.wait_for(count)


def text_of(email: Message) -> str:
    return email.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_of(email: Message) -> str:
    return email.get_body(("html",)).get_content()


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "button"),
    [
        ("en", "Confirm your registration: Beta", "Hello Ada,", "Confirm my registration"),
        ("de", "Bestätigen Sie Ihre Anmeldung: Beta", "Hallo Ada,", "Anmeldung bestätigen"),
        ("fr", "Confirmez votre inscription : Beta", "Bonjour Ada,", "Confirmer mon inscription"),
        ("es", "Confirme su registro: Beta", "Hola, Ada:", "Confirmar mi registro"),
    ],
)
def test_the_confirmation_email_arrives_in_the_lead_s_language(
    app, language, subject, greeting, button
):
    registered_in(language, double_opt_in=True)  # the registration queues the email

    [email] = delivered(app)

    assert text_of(email).startswith(greeting)
    assert f'<html lang="{language}">' in html_of(email) and button in html_of(email)


@pytest.mark.parametrize(
    ("language", "valid_until"),
    [
        ("en", "It works until March 14, 2027, 9:30\u202fAM UTC."),
        ("de", "Er ist gültig bis 14. März 2027, 09:30 UTC."),
        ("fr", "Il est valable jusqu\u2019au 14 mars 2027, 09:30 UTC."),
        ("es", "Es válido hasta el 14 de marzo de 2027, 9:30 UTC."),
    ],
)
def test_dates_in_an_email_follow_the_lead_s_language(app, language, valid_until):
    _lead, journey = registered_in(language)
    journey.valid_until = datetime(2027, 3, 14, 9, 30, tzinfo=UTC)
    queue_journey_link(journey, "Your link")
    db.session.commit()

    emails = delivered(app, 2)

    [email] = [e for e in emails if "Beta" in e["Subject"] and "/j/" in text_of(e)]
    assert valid_until in text_of(email)


def test_an_email_lead_step_uses_the_activity_s_translation_for_the_lead_s_language(app):
    ws = factories.workspace("Acme")
    funnel = factories.funnel(ws, name="Beta")
    welcome = factories.stage(funnel, "Welcome")
    factories.activity(
        welcome,
        ActivityKind.EMAIL_LEAD,
        "Welcome",
        subject="Welcome, {{ lead.first_name }}",
        body="Hi {{ lead.first_name }}, glad you are here.",
        translations={
            "de": {
                "subject": "Willkommen, {{ lead.first_name }}",
                "body": "Hallo {{ lead.first_name }}, schön, dass Sie da sind.",
            },
            "fr": {"subject": "Bienvenue, {{ lead.first_name }}"},
        },
    )
    origin = factories.origin(funnel)
    for email, language in (
        ("de@example.com", "de"),
        ("fr@example.com", "fr"),
        ("es@example.com", "es"),
    ):
        register(
            origin,
            LeadInput(email=email, first_name="Ada", language=language),
            RegistrationContext(),
        )
    db.session.commit()

    emails = {e["To"]: e for e in delivered(app, 3)}

    german, french, spanish = (
        emails["de@example.com"],
        emails["fr@example.com"],
        emails["es@example.com"],
    )
    assert german["Subject"] == "Willkommen, Ada"
    assert text_of(german).startswith("Hallo Ada, schön, dass Sie da sind.")
    assert "Ihre Seite:" in text_of(
        german
    ) and "Um diese E-Mails nicht mehr zu bekommen:" in text_of(german)
    # French has a subject of its own, not a body: the body is the default (English) one.
    assert french["Subject"] == "Bienvenue, Ada"
    assert text_of(french).startswith("Hi Ada, glad you are here.")
    assert "Votre page :" in text_of(french)
    # Spanish has no translation: the staff's text, our Spanish around it.
    assert spanish["Subject"] == "Welcome, Ada"
    assert "Para dejar de recibir estos correos:" in text_of(spanish)


def test_the_default_email_body_greets_in_the_lead_s_language(app):
    ws = factories.workspace("Acme")
    funnel = factories.funnel(ws, name="Beta")
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.EMAIL_LEAD, "Welcome")
    register(
        factories.origin(funnel),
        LeadInput(email="ada@example.com", first_name="Ada", language="es"),
        RegistrationContext(),
    )
    db.session.commit()

    [email] = delivered(app)

    assert text_of(email).startswith("Hola, Ada:\n\nGracias por registrarse.")


def test_the_sign_in_email_is_in_the_lead_s_language(app):
    lead, _journey = registered_in("fr")
    email_sign_in_link(lead)
    db.session.commit()

    emails = delivered(app, 2)

    [email] = [e for e in emails if e["Subject"] == "Connexion à vos parcours avec Acme"]
    assert "Le lien fonctionne une fois, pendant 15 minutes." in text_of(email)
