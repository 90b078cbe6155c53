"""Staff translate their texts per language in the back-office: an origin's form (and its
language), an email activity's subject and body. Leads in that language see them."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import ActivityKind, Origin, OriginKind
from tests import factories
from tests.conftest import csrf_token
from tests.public.helpers import post_form


@pytest.fixture
def world(auth):
    """A signed-in administrator's workspace, a funnel and a page origin with a consent box."""
    ws = factories.workspace("Acme")
    auth.login(factories.user(ws).email)
    funnel = factories.staged_funnel(ws, name="Beta")
    origin = factories.origin(
        funnel,
        OriginKind.PAGE,
        settings={"title": "Join the beta", "consent": {"text": "I agree", "required": True}},
        success_message="You are in.",
    )
    return ws, funnel, origin


def _post(client, path: str, data: dict[str, str], **kwargs: object):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/p/")}, **kwargs)


def _path(origin: Origin) -> str:
    return f"/p/funnels/edit/{origin.funnel_id}/origins/{origin.id}/translations"


def test_the_translations_page_lists_each_text_with_its_english(client, world):
    _ws, _funnel, origin = world

    body = client.get(_path(origin)).get_data(as_text=True)

    assert "<h1>Translations of “page origin”</h1>" in body
    for name in ("de-title", "fr-submit_label", "es-consent", "de-success_message"):
        assert f'name="{name}"' in body
    assert 'name="de-fields.email"' in body and "English: Join the beta" in body
    assert '<option value="browser" selected>' in body


def test_saved_translations_are_what_leads_in_that_language_see(client, world):
    _ws, _funnel, origin = world

    saved = _post(
        client,
        _path(origin),
        {
            "language": "de",
            "de-title": "Machen Sie mit",
            "de-fields.email": "Ihre E-Mail",
            "de-consent": "Ich bin einverstanden",
            "de-success_message": "Sie sind dabei.",
            "fr-title": "Rejoignez la bêta",
        },
    )
    page = client.get(f"/r/{origin.ref}").get_data(as_text=True)
    done = post_form(client, f"/r/{origin.ref}", origin.ref, email="ada@example.com", _consent="on")

    assert saved.status_code == 302 and saved.headers["Location"] == _path(origin)
    db.session.refresh(origin)
    assert origin.settings["language"] == "de"
    assert origin.settings["translations"] == {
        "de": {
            "title": "Machen Sie mit",
            "consent": "Ich bin einverstanden",
            "success_message": "Sie sind dabei.",
            "fields": {"email": "Ihre E-Mail"},
        },
        "fr": {"title": "Rejoignez la bêta"},
    }
    assert "<h1>Machen Sie mit</h1>" in page and "Ihre E-Mail" in page
    assert "Ich bin einverstanden" in page and "Vorname" in page  # ours, translated by us
    assert "Sie sind dabei." in done.get_data(as_text=True)


def test_a_language_without_translations_shows_the_staff_s_default_texts(client, world):
    _ws, _funnel, origin = world
    _post(client, _path(origin), {"language": "browser", "de-title": "Machen Sie mit"})

    spanish = client.get(f"/r/{origin.ref}", headers={"Accept-Language": "es"})
    german = client.get(f"/r/{origin.ref}", headers={"Accept-Language": "de"})

    assert "<h1>Join the beta</h1>" in spanish.get_data(as_text=True)
    assert "Registrarme" in spanish.get_data(as_text=True)
    assert "<h1>Machen Sie mit</h1>" in german.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"language": "it"}, "Choose one of the languages offered."),
        ({"language": "de", "de-title": "x" * 201}, "At most 200 characters."),
        ({"language": "de", "es-submit_label": "y" * 101}, "At most 100 characters."),
    ],
)
def test_bad_input_answers_422_with_the_message_on_its_field(client, world, data, message):
    _ws, _funnel, origin = world

    response = _post(client, _path(origin), data, headers={"HX-Request": "true"})

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<form id="translations-form"')
    assert f"{message}</p>" in body and 'aria-invalid="true"' in body
    db.session.refresh(origin)
    assert "translations" not in origin.settings


def test_only_form_origins_of_the_workspace_have_translations(client, world):
    _ws, funnel, _origin = world
    api = factories.origin(funnel, OriginKind.API)
    other = factories.origin(factories.staged_funnel(factories.workspace()), OriginKind.PAGE)

    assert client.get(_path(api)).status_code == 404
    assert client.get(_path(other)).status_code == 404


def _email_activity(funnel) -> object:
    stage = factories.stage(funnel, "Welcome mail")
    return factories.activity(
        stage, ActivityKind.EMAIL_LEAD, "Welcome", subject="Hi {{ lead.first_name }}", body="Hello"
    )


def test_an_email_activity_s_translations_are_saved_and_kept_by_its_form(client, world):
    _ws, funnel, _origin = world
    activity = _email_activity(funnel)
    path = f"/p/funnels/edit/{funnel.id}/activities/{activity.id}"

    page = client.get(path + "/translations").get_data(as_text=True)
    saved = _post(
        client,
        path + "/translations",
        {"de-subject": "Hallo {{ lead.first_name }}", "de-body": "Guten Tag"},
    )
    edited = _post(
        client,
        path,
        {"activity-title": "Welcome!", "activity-subject": "Hey", "activity-body": "Hello there"},
    )

    assert "English: Hi {{ lead.first_name }}" in page
    assert saved.status_code == 302 and edited.status_code == 302
    db.session.refresh(activity)
    assert activity.config == {
        "subject": "Hey",
        "body": "Hello there",
        "translations": {"de": {"subject": "Hallo {{ lead.first_name }}", "body": "Guten Tag"}},
    }


def test_a_translated_email_that_does_not_parse_is_refused(client, world):
    _ws, funnel, _origin = world
    activity = _email_activity(funnel)
    path = f"/p/funnels/edit/{funnel.id}/activities/{activity.id}/translations"

    response = _post(client, path, {"fr-body": "Bonjour {{ lead.first_name "})

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This template does not parse" in body and 'id="t-fr-body-error"' in body
    db.session.refresh(activity)
    assert "translations" not in activity.config


def test_only_email_activities_have_translations(client, world):
    _ws, funnel, _origin = world
    task = factories.activity(factories.stage(funnel, "Tasks"), ActivityKind.STAFF_TASK, "Call")

    assert (
        client.get(f"/p/funnels/edit/{funnel.id}/activities/{task.id}/translations").status_code
        == 404
    )


def test_the_api_refuses_translated_templates_that_do_not_parse(world):
    from leadsite.journeys.activities import validate_activity_config

    config = {"subject": "Hi", "translations": {"de": {"body": "{% if %}"}}}

    [problem] = validate_activity_config(ActivityKind.EMAIL_LEAD, config)

    assert problem.startswith("translations.de.body: does not parse")


def test_a_field_s_help_text_is_translated_too(client, world):
    _ws, funnel, _origin = world
    origin = factories.origin(
        funnel,
        OriginKind.PAGE,
        form_fields=[{"field": "email", "help": "We never share it."}],
        settings={"language": "es"},
    )

    page = client.get(_path(origin)).get_data(as_text=True)
    _post(client, _path(origin), {"language": "es", "es-help.email": "Nunca lo compartimos."})
    form = client.get(f"/r/{origin.ref}").get_data(as_text=True)

    assert 'name="es-help.email"' in page and "English: We never share it." in page
    assert "Nunca lo compartimos." in form and "We never share it." not in form
