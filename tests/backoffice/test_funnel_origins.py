"""Origins in the editor: each kind with its ref and snippets, the form builder, deactivation."""

from __future__ import annotations

import html

import pytest

from leadsite import accounts
from leadsite.backoffice.funnel_origin_forms import field_name
from leadsite.extensions import db
from leadsite.models import Origin, OriginKind, Role, Workspace
from leadsite.public.fields import form_fields, form_settings
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
BASE = "http://localhost"  # the tests' BASE_URL


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _post(client, path: str, data: dict[str, object] | None = None, **kwargs: object):
    return client.post(
        path, data={**(data or {}), "csrf_token": csrf_token(client, "/p/")}, **kwargs
    )


def _origins(ws: Workspace) -> list[Origin]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Origin).filter_by(workspace_id=ws.id)))


def _builder(rows: list[dict[str, object]], **fields: object) -> dict[str, object]:
    """The origin form with builder rows: each row's name, shown, label, required, help, order."""
    data: dict[str, object] = {"name": "Sign-up form", "allowed_domains": "", **fields}
    for index, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                data[f"rows-{index}-{key}"] = "y"
            elif value not in (False, None):
                data[f"rows-{index}-{key}"] = value
    return data


@pytest.mark.parametrize("kind", [kind.value for kind in OriginKind])
def test_an_origin_of_each_kind_gets_a_ref(client, auth, kind):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    response = _post(
        client,
        f"/p/funnels/edit/{funnel.id}/origins",
        {"new-origin-kind": kind, "new-origin-name": "Door"},
        headers=HTMX,
    )

    [origin] = _origins(ws)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="origins">') and "<html" not in body
    assert (origin.kind, origin.name, origin.funnel_id) == (kind, "Door", funnel.id)
    assert len(origin.ref) == 12 and f"ref {origin.ref}" in body
    if kind in ("page", "embed"):  # starts with a form the public page can show
        assert [field_name(f) for f in origin.form_fields] == ["first_name", "last_name", "email"]


def test_an_api_origin_shows_curl_and_fetch_with_the_real_base_url_and_ref(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.API)

    body = html.unescape(client.get(f"/p/funnels/edit/{funnel.id}").get_data(as_text=True))

    url = f"{BASE}/api/v1/leads?ref={origin.ref}"
    assert f'curl -X POST "{url}"' in body
    assert '-H "Authorization: Bearer YOUR_API_KEY"' in body
    assert '"Email": "johndoe@example.com", "Firstname": "John", "Lastname": "Doe"' in body
    assert f"fetch('{url}', {{" in body
    assert "'Authorization': 'Bearer YOUR_PUBLISHABLE_KEY'" in body
    assert "'Authorization': 'Bearer YOUR_API_KEY'" not in body  # never a secret key in a page
    assert 'data-copy="#snippet-' in body


def test_the_fetch_snippet_shows_the_origins_publishable_key(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.API, allowed_domains=["https://shop.example"])
    other = factories.origin(funnel, OriginKind.API)
    key = accounts.create_publishable_key(ws, "Shop", [origin.id])
    db.session.commit()

    body = html.unescape(client.get(f"/p/funnels/edit/{funnel.id}").get_data(as_text=True))
    page = html.unescape(
        client.get(f"/p/funnels/edit/{funnel.id}/origins/{origin.id}").get_data(as_text=True)
    )

    assert key.token.startswith("lpk_")
    assert body.count(f"'Authorization': 'Bearer {key.token}'") == 1  # not on the other origin
    assert "'Authorization': 'Bearer YOUR_PUBLISHABLE_KEY'" in body and other.ref in body
    assert f"'Authorization': 'Bearer {key.token}'" in page


def test_the_example_body_carries_the_funnels_identifier(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, identifier="phone")
    factories.origin(funnel, OriginKind.API)

    body = html.unescape(client.get(f"/p/funnels/edit/{funnel.id}").get_data(as_text=True))

    assert '"PhoneNumber": "+1 (800) 555-0175"' in body


def test_page_and_embed_origins_show_their_link_script_and_iframe(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    page = factories.origin(funnel, OriginKind.PAGE)
    framed = factories.origin(
        funnel, OriginKind.EMBED, allowed_domains=["https://shop.example.com"]
    )

    body = html.unescape(client.get(f"/p/funnels/edit/{funnel.id}").get_data(as_text=True))

    assert f"{BASE}/r/{page.ref}" in body
    script = (
        f'<script src="{BASE}/static/js/embed.js" data-leadsite-ref="{framed.ref}" async></script>'
    )
    assert script in body
    assert f'<iframe src="{BASE}/embed/{framed.ref}"' in body
    assert "May be framed by: https://shop.example.com" in body


def test_an_embed_origin_without_allowed_sites_says_it_cannot_be_framed(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.EMBED)

    for path in (
        f"/p/funnels/edit/{funnel.id}",
        f"/p/funnels/edit/{funnel.id}/origins/{origin.id}",
    ):
        assert "No allowed sites: no website can frame this form yet." in client.get(path).get_data(
            as_text=True
        )


def test_an_origin_of_a_funnel_not_active_says_registrations_are_refused(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, status="draft")
    factories.origin(funnel)

    body = client.get(f"/p/funnels/edit/{funnel.id}").get_data(as_text=True)

    assert "The funnel is draft: every origin refuses registrations (423)" in body


def test_the_origin_page_is_whole_without_htmx_and_its_panel_with_it(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    factories.data_point(ws, "company", label="Company")
    origin = factories.origin(funnel, OriginKind.PAGE)
    path = f"/p/funnels/edit/{funnel.id}/origins/{origin.id}"

    full = client.get(path)
    partial = client.get(path, headers=HTMX)

    assert full.status_code == partial.status_code == 200
    assert "<html" in full.get_data(as_text=True)
    body = partial.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="origin-panel"') and "<html" not in body
    assert 'name="rows-0-name" type="hidden" value="first_name"' in body  # the defaults first
    assert 'value="data.company"' in body  # every data point can be added


def test_the_form_builder_saves_fields_in_order_with_labels_and_texts(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    factories.data_point(ws, "company", label="Company")
    origin = factories.origin(funnel, OriginKind.EMBED)
    path = f"/p/funnels/edit/{funnel.id}/origins/{origin.id}"

    response = _post(
        client,
        path,
        _builder(
            [
                {"name": "email", "shown": True, "required": True, "order": "1"},
                {"name": "phone", "shown": False, "label": "Ignored"},
                {"name": "first_name", "shown": True, "label": "Your name", "order": "3"},
                {"name": "data.company", "shown": True, "help": "Where you work", "order": "2"},
            ],
            allowed_domains="https://Shop.example.com/\nhttps://*.example.com\nhttp://localhost:*",
            title="Join the beta",
            intro="Two minutes.",
            submit_label="Join",
            consent_text="I agree to the terms.",
            consent_version="2026-01",
            consent_required="y",
            redirect_url="https://example.com/thanks",
            success_message="Thank you!",
        ),
        headers=HTMX,
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Origin “Sign-up form” saved." in response.get_data(as_text=True)
    db.session.refresh(origin)
    assert origin.form_fields[1] == {
        "data_point": "company",
        "label": "Company",
        "required": False,
        "help": "Where you work",
    }
    assert [(field_name(f), f["label"], f["required"], f["help"]) for f in origin.form_fields] == [
        ("email", "Email", True, None),
        ("data.company", "Company", False, "Where you work"),
        ("first_name", "Your name", False, None),
    ]
    assert origin.allowed_domains == [
        "https://shop.example.com",
        "https://*.example.com",
        "http://localhost:*",
    ]
    assert (
        origin.settings["title"] == "Join the beta" and origin.settings["intro"] == "Two minutes."
    )
    assert origin.settings["consent_text"] == "I agree to the terms."
    assert (origin.settings["consent_version"], origin.settings["consent_required"]) == (
        "2026-01",
        True,
    )
    assert (origin.redirect_url, origin.success_message) == (
        "https://example.com/thanks",
        "Thank you!",
    )
    # The public pages read what the builder wrote.
    shown = form_fields(origin, funnel)
    assert [(f.name, f.label, f.required) for f in shown] == [
        ("email", "Email", True),
        ("data.company", "Company", False),
        ("first_name", "Your name", False),
    ]
    settings = form_settings(origin, funnel)
    assert (settings.title, settings.submit_label) == ("Join the beta", "Join")
    assert settings.consent.text == "I agree to the terms." and settings.consent.required is True


def test_saving_without_htmx_redirects_to_the_origin_page(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.API)
    path = f"/p/funnels/edit/{funnel.id}/origins/{origin.id}"

    response = _post(
        client, path, {"name": "Backend", "allowed_domains": "https://app.example.com"}
    )

    assert response.status_code == 302 and response.headers["Location"] == path
    db.session.refresh(origin)
    assert origin.name == "Backend" and origin.allowed_domains == ["https://app.example.com"]
    assert origin.form_fields == []  # an API origin has no form


@pytest.mark.parametrize(
    ("domains", "message"),
    [
        ("shop.example.com", "needs its scheme: write https://shop.example.com"),
        ("ftp://shop.example.com", "only http:// and https:// sites can be allowed"),
        ("https://shop.example.com/signup", "no path; write only scheme://host[:port]"),
        ("https://shop.*.com", "* may only start the host"),
        ("https://*.com", "*. must be followed by a domain"),
        ("https://shop.example.com:70000", "the port must be 1 to 65535"),
        ("https://exa mple.com", "is not scheme://host[:port]"),
        ("*", "would let every site in"),
        ("https://*", "would let every site in"),
    ],
)
def test_allowed_sites_must_be_scheme_host_and_port(client, auth, domains, message):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.API)
    path = f"/p/funnels/edit/{funnel.id}/origins/{origin.id}"

    fragment = _post(client, path, {"name": "X", "allowed_domains": domains}, headers=HTMX)
    page = _post(client, path, {"name": "X", "allowed_domains": domains})

    assert fragment.status_code == page.status_code == 422
    body = html.unescape(fragment.get_data(as_text=True))
    assert body.lstrip().startswith('<div id="origin-panel"') and message in body
    assert "<html" in page.get_data(as_text=True)
    db.session.refresh(origin)
    assert origin.name == "api origin" and origin.allowed_domains == []


@pytest.mark.parametrize(
    ("rows", "fields", "message"),
    [
        ([{"name": "email", "shown": False}], {}, "Show at least one field."),
        (
            [{"name": "first_name", "shown": True}],
            {},
            "This funnel identifies leads by email: show Email and make it required.",
        ),
        (
            [{"name": "email", "shown": True, "required": False}],
            {},
            "This funnel identifies leads by email: show Email and make it required.",
        ),
        (
            [{"name": "email", "shown": True, "required": True, "order": "first"}],
            {},
            "Not a valid integer value.",
        ),
        (
            [{"name": "email", "shown": True, "required": True}],
            {"consent_required": "y"},
            "Write the consent text people agree to.",
        ),
        (
            [{"name": "email", "shown": True, "required": True}],
            {"redirect_url": "javascript:alert(1)"},
            "must be an absolute http:// or https:// URL",
        ),
        (
            [{"name": "email", "shown": True, "required": True}],
            {"name": ""},
            "This field is required.",
        ),
    ],
)
def test_an_invalid_form_answers_422_and_changes_nothing(client, auth, rows, fields, message):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.PAGE)
    path = f"/p/funnels/edit/{funnel.id}/origins/{origin.id}"

    response = _post(client, path, _builder(rows, **fields), headers=HTMX)

    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    db.session.refresh(origin)
    assert origin.form_fields == [] and origin.name == "page origin"


def test_an_origin_is_deactivated_and_reopened(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel)
    path = f"/p/funnels/edit/{funnel.id}/origins/{origin.id}/active"

    closed = _post(client, path, {"active": "0"}, headers=HTMX)
    db.session.refresh(origin)
    assert origin.active is False
    assert "Deactivated: registrations through this origin are refused" in closed.get_data(
        as_text=True
    )
    reopened = _post(client, path, {"active": "1", "from": "origin"})
    db.session.refresh(origin)
    assert origin.active is True
    assert reopened.headers["Location"] == f"/p/funnels/edit/{funnel.id}/origins/{origin.id}"


def test_a_deactivated_origin_registers_nobody(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel)
    key = factories.api_key(ws)
    _post(client, f"/p/funnels/edit/{funnel.id}/origins/{origin.id}/active", {"active": "0"})

    response = client.post(
        f"/api/v1/leads?ref={origin.ref}",
        json={"Email": "ada@example.com"},
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 404


def test_a_manager_manages_origins_too(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)
    funnel = factories.funnel(ws)

    response = _post(
        client,
        f"/p/funnels/edit/{funnel.id}/origins",
        {"new-origin-kind": "page", "new-origin-name": "Page"},
    )

    assert response.status_code == 302 and len(_origins(ws)) == 1


def test_new_origins_need_a_known_kind_and_a_name(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    path = f"/p/funnels/edit/{funnel.id}/origins"

    no_name = _post(client, path, {"new-origin-kind": "api", "new-origin-name": ""}, headers=HTMX)
    bad_kind = _post(client, path, {"new-origin-kind": "fax", "new-origin-name": "F"}, headers=HTMX)

    assert no_name.status_code == bad_kind.status_code == 422
    assert no_name.get_data(as_text=True).lstrip().startswith('<div id="origins">')
    assert "Not a valid choice." in bad_kind.get_data(as_text=True)
    assert _origins(ws) == []


def test_origin_ids_of_another_funnel_or_workspace_are_not_found(client, auth):
    ws = _sign_in(auth)
    mine = factories.funnel(ws, "Mine")
    strangers = [
        factories.origin(factories.funnel(ws, "Other")),
        factories.origin(factories.funnel(factories.workspace(), "Theirs")),
    ]

    for origin in strangers:
        path = f"/p/funnels/edit/{mine.id}/origins/{origin.id}"
        assert client.get(path).status_code == 404
        assert _post(client, path, {"name": "Stolen"}).status_code == 404
        assert _post(client, f"{path}/active", {"active": "0"}).status_code == 404
    theirs = strangers[1].funnel_id
    assert client.get(f"/p/funnels/edit/{theirs}/origins", headers=HTMX).status_code == 404
    data = {"new-origin-kind": "api", "new-origin-name": "X"}
    assert _post(client, f"/p/funnels/edit/{theirs}/origins", data).status_code == 404
    db.session.expire_all()
    assert all(o.active and o.name == "api origin" for o in strangers)


def test_the_origins_block_is_for_htmx_and_browsers_go_to_the_edit_page(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel)

    partial = client.get(f"/p/funnels/edit/{funnel.id}/origins", headers=HTMX)
    full = client.get(f"/p/funnels/edit/{funnel.id}/origins")

    body = partial.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="origins">') and origin.ref in body
    assert full.status_code == 302
    assert full.headers["Location"] == f"/p/funnels/edit/{funnel.id}#origins"
