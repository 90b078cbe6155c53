"""The error envelope's `value` is what the client sent, as JSON (a list a list, an object an
object), cut when very large, through every door: JSON, form-encoded, batch items, the dialects
and mapped origins."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.registration import shown_value
from tests.api.conftest import ApiWorld


def _values(response, status: int = 422) -> dict:
    """Each refused field's value, by field."""
    assert response.status_code == status, response.get_data(as_text=True)
    return {error["field"]: error["value"] for error in response.json["errors"]}


def test_a_list_or_an_object_sent_is_shown_as_sent(api):
    body = {"email": ["a@example.com", "b@example.com"], "first_name": {"given": "Ada"}}

    response = api.register(body)

    values = _values(response)
    assert values["email"] == ["a@example.com", "b@example.com"]
    assert values["first_name"] == {"given": "Ada"}
    assert response.json["details"]["value"] == ["a@example.com", "b@example.com"]


def test_a_list_refused_by_the_pipeline_is_a_list_not_its_repr(api):
    body = {"email": "ada@example.com", "JourneyData": [{"Name": "team_size", "Value": [1, 2]}]}

    values = _values(api.register(body))

    assert values["journey_data[0].value"] == [1, 2]


def test_journey_data_of_the_wrong_shape_shows_what_was_sent(api):
    values = _values(api.register({"email": "a@example.com", "JourneyData": [7, ["x"]]}))
    whole = _values(api.register({"email": "a@example.com", "JourneyData": "company=Acme"}))

    assert values == {"journey_data[0]": 7, "journey_data[1]": ["x"]}
    assert whole == {"journey_data": "company=Acme"}


def test_a_key_repeated_in_a_form_shows_every_value(api):
    form = "email=a%40example.com&email=b%40example.com"

    response = api.register(data=form, content_type="application/x-www-form-urlencoded")

    assert _values(response)["email"] == ["a@example.com", "b@example.com"]


def test_each_refused_batch_item_shows_what_it_sent(api):
    response = api.client.post(
        f"/api/v1/leads/batch?ref={api.origin.ref}",
        json=[[1, 2], {"email": {"work": "a@example.com"}}],
        headers=api.auth,
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    first, second = response.json["data"]
    assert first["errors"][0]["value"] == [1, 2]
    assert second["errors"][0]["value"] == {"work": "a@example.com"}


NESTED = {"Journey": {"User": {"ContactPrefs": {"Email": ["a@example.com"]}}}}


@pytest.mark.parametrize(
    ("path", "body", "field", "sent"),
    [
        ("/v2/{ref}/", {"email": ["a@example.com"]}, "email", ["a@example.com"]),
        ("/api/v1/chatbots/{ref}/leads", {"email": "a@x.io", "name": {"a": 1}}, "name", {"a": 1}),
        ("/api/v1/journeys?ref={ref}", NESTED, "email", ["a@example.com"]),
        ("/platform/v1/leadgen", {"email": ["a@example.com"]}, "email", ["a@example.com"]),
    ],
    ids=["kickofflabs", "chatbot", "kohomai-journeys", "vcita"],
)
def test_every_dialect_shows_the_value_as_json(api: ApiWorld, path, body, field, sent):
    api.workspace.default_origin_id = api.origin.id  # vcita's calls name no origin
    db.session.commit()
    auth = api.auth
    if path.startswith("/platform/"):
        auth = {"Authorization": f'Token token="{api.key}"'}

    response = api.client.post(path.format(ref=api.origin.ref), json=body, headers=auth)

    assert _values(response)[field] == sent


def test_kickofflabs_info_shows_the_email_it_could_not_read(api):
    response = api.client.get(f"/v1/{api.origin.ref}/info?email=not-an-address", headers=api.auth)

    assert _values(response)["email"] == "not-an-address"


def test_a_mapped_origin_shows_the_mapped_value_as_json(api):
    api.origin.mapping = {"email": "contact.emails"}
    db.session.commit()
    hook = f"/hooks/{api.origin.ref}/{api.origin.hook_secret}"

    response = api.client.post(hook, json={"contact": {"emails": ["a@example.com", "b@x.io"]}})

    assert _values(response)["email"] == ["a@example.com", "b@x.io"]


def test_a_mapping_that_is_not_an_object_shows_it(api):
    response = api.client.post(
        f"/api/v1/funnels/{api.funnel.id}/origins",
        json={"name": "Ads", "mapping": ["email"]},
        headers=api.auth,
    )

    assert _values(response)["mapping"] == ["email"]


def test_a_choice_point_without_choices_lists_its_error(api):
    response = api.client.post(
        "/api/v1/data-points", json={"name": "size", "type": "choice"}, headers=api.auth
    )

    assert _values(response) == {"choices": []}
    assert response.json["details"]["field"] == "choices"


def test_very_large_values_are_cut_and_counted(api):
    body = {
        "email": "a@example.com",
        "first_name": ["x"] * 1000,
        "last_name": {f"k{n}": n for n in range(50)},
        "company": "y" * 5000,
        "address": [[[[[["deep"]]]]]],
    }

    values = _values(api.register(body))

    assert values["first_name"] == ["x"] * 20 + ["… 980 more items"]
    assert list(values["last_name"].items())[-1] == ("…", "30 more keys")
    assert len(values["last_name"]) == 21
    assert values["address"] == [[[["[1 items]"]]]]


def test_a_long_text_is_cut_with_an_ellipsis():
    assert shown_value("y" * 5000) == "y" * 200 + "…"
    assert shown_value("y" * 200) == "y" * 200
    assert shown_value({"y" * 300: 1}) == {"y" * 200 + "…": 1}


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        (None, None),
        (True, True),
        (3, 3),
        (2.5, 2.5),
        (float("nan"), "nan"),
        (b"raw", "b'raw'"),
        ((1, 2), [1, 2]),
        ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}),
    ],
)
def test_shown_values_are_json(sent, shown):
    assert shown_value(sent) == shown
