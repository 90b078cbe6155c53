"""The lead-facing pages in English, German, French and Spanish: chosen by the origin's setting,
the browser's Accept-Language, or the language the lead registered in."""

from __future__ import annotations

import html
import io

import pytest

from leadsite.backoffice.form_builder import default_form
from leadsite.extensions import db
from leadsite.journeys.emails import unsubscribe_token
from leadsite.models import (
    ActivityKind,
    DataPointType,
    JourneyFile,
    JourneyStep,
    Lead,
    OriginKind,
)
from leadsite.public.tokens import confirm_token, journey_action_token
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.i18n.helpers import form_origin, registered_in
from tests.public.helpers import post_form
from tests.public.lead_steps import lead_journey, post_step

# language: (html lang, first name label, button, "required" hint)
FORM_TEXTS = {
    "en": ("First name", "Sign up", "are required."),
    "de": ("Vorname", "Jetzt anmelden", "sind Pflichtfelder."),
    "fr": ("Prénom", "S\u2019inscrire", "sont obligatoires."),
    "es": ("Nombre", "Registrarme", "son obligatorios."),
}


@pytest.mark.parametrize("kind", [OriginKind.PAGE, OriginKind.EMBED])
@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_the_form_speaks_the_origin_s_language(client, kind, language):
    origin = form_origin(language, kind)
    path = f"/r/{origin.ref}" if kind == OriginKind.PAGE else f"/embed/{origin.ref}"

    body = client.get(path, headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)

    label, button, hint = FORM_TEXTS[language]
    assert f'<html lang="{language}">' in body
    assert f'<label for="f-first-name">{label}' in body
    assert f'<button type="submit" class="button">{button}</button>' in body
    assert hint in body


@pytest.mark.parametrize("language", ["de", "fr", "es"])
def test_labels_the_builder_saved_unchanged_are_in_the_origin_s_language(client, language):
    """The builder (and a new origin's default form) writes each field's English label out: a
    label staff did not change is the default, in the lead's language, not "First name"."""
    origin = form_origin(language)
    origin.form_fields = default_form("email")
    db.session.commit()

    body = client.get(f"/r/{origin.ref}").get_data(as_text=True)

    assert f'<label for="f-first-name">{FORM_TEXTS[language][0]}' in body


def test_a_unique_id_field_the_builder_saved_unchanged_is_in_the_origin_s_language(client):
    origin = form_origin("de")
    origin.form_fields = default_form("unique_id")
    db.session.commit()

    body = client.get(f"/r/{origin.ref}").get_data(as_text=True)

    assert '<label for="f-unique-id">Mitgliedsnummer' in body


def test_a_label_staff_wrote_is_kept_in_every_language(client):
    origin = form_origin("de")
    origin.form_fields = [{"field": "first_name", "label": "Your given name", "required": False}]
    db.session.commit()

    body = client.get(f"/r/{origin.ref}").get_data(as_text=True)

    assert '<label for="f-first-name">Your given name' in body


@pytest.mark.parametrize(
    ("accept", "language"),
    [
        ("de-AT,de;q=0.9,en;q=0.5", "de"),
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("it-IT,it;q=0.9,es;q=0.8,en;q=0.7", "es"),
        ("it-IT,pt;q=0.5", "en"),
        ("", "en"),
    ],
)
def test_an_origin_that_follows_the_browser_speaks_the_best_accept_language(
    client, accept, language
):
    origin = form_origin("browser")

    body = client.get(f"/r/{origin.ref}", headers={"Accept-Language": accept}).get_data(
        as_text=True
    )

    assert f'<html lang="{language}">' in body
    assert f'<label for="f-first-name">{FORM_TEXTS[language][0]}' in body


def test_an_origin_without_a_language_follows_the_browser(client):
    origin = form_origin(None)

    body = client.get(f"/r/{origin.ref}", headers={"Accept-Language": "es"}).get_data(as_text=True)

    assert "Registrarme" in body


def test_the_origin_s_language_wins_over_the_browser_s(client):
    origin = form_origin("de")

    body = client.get(f"/r/{origin.ref}", headers={"Accept-Language": "fr"}).get_data(as_text=True)

    assert '<html lang="de">' in body and "Jetzt anmelden" in body and "S\u2019inscrire" not in body


def test_errors_on_a_german_form_are_german_and_the_lead_keeps_the_language(client):
    origin = form_origin("de")

    missing = post_form(client, f"/r/{origin.ref}", origin.ref, first_name="Ada")
    done = post_form(
        client, f"/r/{origin.ref}", origin.ref, first_name="Ada", email="ada@example.com"
    )

    body = missing.get_data(as_text=True)
    assert missing.status_code == 422
    assert "Es gibt ein Problem" in body and "Bitte füllen Sie „E-Mail“ aus" in body
    assert "Vielen Dank: Sie sind angemeldet." in done.get_data(as_text=True)
    assert db.session.scalar(db.select(Lead.language)) == "de"


def test_french_and_german_required_fields_read_in_a_sentence(client):
    french, german = form_origin("fr"), form_origin("de")

    in_french = post_form(client, f"/r/{french.ref}", french.ref).get_data(as_text=True)
    in_german = post_form(client, f"/r/{german.ref}", german.ref).get_data(as_text=True)

    assert "Indiquez votre e-mail" in in_french  # French does not capitalise the label
    assert "Bitte füllen Sie „E-Mail“ aus" in in_german


@pytest.mark.parametrize(
    ("language", "heading", "next_line"),
    [
        ("en", "Confirm your email to start", "Send the link again"),
        ("de", "Bestätigen Sie Ihre E-Mail-Adresse, um zu beginnen", "Link noch einmal senden"),
        ("fr", "Confirmez votre e-mail pour commencer", "Renvoyer le lien"),
        ("es", "Confirme su correo para empezar", "Volver a enviar el enlace"),
    ],
)
def test_the_journey_page_speaks_the_lead_s_language_whatever_the_browser(
    client, language, heading, next_line
):
    _lead, journey = registered_in(language, double_opt_in=True)

    body = client.get(f"/j/{journey.access_token}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )

    assert f'<html lang="{language}">' in body
    assert heading in body and next_line in body


@pytest.mark.parametrize(
    ("language", "title", "button"),
    [
        ("en", "Confirm your registration", "Yes, confirm my registration"),
        ("de", "Bestätigen Sie Ihre Anmeldung", "Ja, Anmeldung bestätigen"),
        ("fr", "Confirmez votre inscription", "Oui, confirmer mon inscription"),
        ("es", "Confirme su registro", "Sí, confirmar mi registro"),
    ],
)
def test_the_confirmation_page_speaks_the_lead_s_language(client, language, title, button):
    lead, journey = registered_in(language, double_opt_in=True)
    path = f"/confirm/{confirm_token(lead.id, journey.id)}"

    page = client.get(path).get_data(as_text=True)
    confirmed = client.post(path).get_data(as_text=True)

    assert f"<h1>{title}</h1>" in page and f">{button}</button>" in page
    done = {
        "en": "Your registration is confirmed",
        "de": "Ihre Anmeldung ist bestätigt",
        "fr": "Votre inscription est confirmée",
        "es": "Su registro está confirmado",
    }
    assert f"<h1>{done[language]}</h1>" in confirmed


@pytest.mark.parametrize(
    ("language", "question", "done"),
    [
        ("en", "Unsubscribe from our emails?", "You are unsubscribed"),
        ("de", "Unsere E-Mails abbestellen?", "Sie haben unsere E-Mails abbestellt"),
        ("fr", "Vous désabonner de nos e-mails ?", "Vous êtes désabonné"),
        ("es", "¿Darse de baja de nuestros correos?", "Se ha dado de baja"),
    ],
)
def test_the_unsubscribe_page_speaks_the_lead_s_language(client, language, question, done):
    lead, _journey = registered_in(language)
    path = f"/unsubscribe/{unsubscribe_token(lead)}"

    page = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    after = client.post(path).get_data(as_text=True)

    assert f"<h1>{question}</h1>" in page
    assert f"<h1>{done}</h1>" in after


def test_a_link_that_names_nobody_answers_in_the_browser_s_language(client):
    body = client.get("/unsubscribe/forged", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )

    assert "Ce lien ne fonctionne pas" in body


@pytest.mark.parametrize(
    ("language", "size"),
    [("en", "(1,024 KB)"), ("de", "(1.024 KB)"), ("fr", "(1\u202f024 Ko)"), ("es", "(1.024 KB)")],
)
def test_numbers_on_the_journey_page_follow_the_lead_s_language(client, language, size):
    journey = lead_journey()
    journey.lead.language = language
    db.session.commit()
    upload = {"file": [(io.BytesIO(b"%PDF-1.4"), "front.pdf")]}
    sent = post_step(
        client, journey, "Your ID", "upload", upload, content_type="multipart/form-data"
    )
    stored = db.session.scalar(db.select(JourneyFile))
    stored.size = 1024 * 1024  # as if a whole megabyte had been sent
    db.session.commit()

    body = client.get(sent.headers["Location"], headers={"Accept-Language": "en"})

    assert f'front.pdf <span class="hint">{size}</span>' in body.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "number", "email"),
    [
        ("de", "Team size muss eine Zahl sein", "Geben Sie eine Adresse wie name@example.com ein."),
        ("fr", "Team size doit être un nombre", "Saisissez une adresse comme name@example.com."),
        ("es", "Team size debe ser un número", "Introduzca una dirección como name@example.com."),
    ],
)
def test_a_task_s_wrong_values_are_told_in_the_lead_s_language(client, language, number, email):
    """Found from outside on a German journey page: "Team size must be a number" and "… braucht
    ein @-Zeichen. Enter an address like name@example.com." (half a sentence in English: a
    gettext call inside an f-string, which pybabel does not extract)."""
    ws = factories.workspace()
    factories.data_point(ws, "team_size", type=DataPointType.NUMBER, label="Team size")
    factories.data_point(ws, "accountant", type=DataPointType.EMAIL, label="Accountant")
    funnel = factories.funnel(ws, name="Onboarding")
    stage = factories.stage(funnel, "About you")
    factories.activity(
        stage, ActivityKind.LEAD_TASK, "About you", data_points=["team_size", "accountant"]
    )
    origin = factories.origin(funnel, OriginKind.PAGE)
    lead_input = LeadInput(email="ada@example.com", first_name="Ada", language=language)
    journey = register(origin, lead_input, RegistrationContext()).journey
    db.session.commit()
    task = db.session.scalar(db.select(JourneyStep).filter_by(journey_id=journey.id))

    response = client.post(
        f"/j/{journey.access_token}/steps/{task.id}",
        data={
            "_token": journey_action_token(journey.id),
            "data.team_size": "many",
            "data.accountant": "books",
        },
    )

    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert number in body and email in body
    assert "must be" not in body and "Enter an address" not in body
