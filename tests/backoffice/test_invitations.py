"""Invitations replace one-time passwords: an emailed, expiring, single-use link, and the same
answer to the administrator whether or not the email has an account."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import g

from leadsite.extensions import db
from leadsite.models import Channel, Invitation, Membership, OutboxMessage, Role, User, utcnow
from leadsite.outbox import worker
from leadsite.passwords import verify_password
from tests import factories
from tests.conftest import AuthActions, csrf_token
from tests.servers import smtp_server

HTMX = {"HX-Request": "true"}
LINK = re.compile(r"http://localhost(/invitations/[A-Za-z0-9_-]+)")
NEW_PASSWORD = "a new password for ana"


def _forget_signed_in_user() -> None:
    """Requests of a test share its app context, where Flask-Login caches the user and
    Flask-WTF the CSRF token: forget both before another client (another person) asks."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def _admin_client(app, ws=None, email: str = "admin@example.com"):
    ws = ws or factories.workspace("Acme")
    admin = factories.user(ws, email=email)
    client = app.test_client()
    _forget_signed_in_user()
    AuthActions(client).login(admin.email)
    return client, ws


def _invite(client, email: str, role: str = "manager", **kwargs: object):
    _forget_signed_in_user()
    token = csrf_token(client, "/p/")
    return client.post(
        "/p/settings/users", data={"email": email, "role": role, "csrf_token": token}, **kwargs
    )


def _emailed_link(to: str) -> str:
    """The invitation link of the newest email to `to`, as the dev mailbox keeps it."""
    message = db.session.scalar(
        db.select(OutboxMessage)
        .filter_by(channel=Channel.EMAIL, target=to)
        .order_by(OutboxMessage.id.desc())
    )
    return LINK.search(message.payload["text"]).group(1)


def _submit(client, path: str, data: dict[str, str] | None = None):
    _forget_signed_in_user()
    token = csrf_token(client, path)
    return client.post(path, data={**(data or {}), "csrf_token": token})


def test_inviting_answers_the_same_whether_or_not_the_email_has_an_account(app):
    # Two workspaces alike but for their names, so that the two pages can be compared whole.
    admin_client, ws = _admin_client(app, factories.workspace("Acme"), "admin-a@example.com")
    other_client, _ = _admin_client(app, factories.workspace("Bcme"), "admin-b@example.com")
    elsewhere = factories.user(factories.workspace(), email="known@example.com")

    known = _invite(admin_client, "known@example.com", headers=HTMX)
    unknown = _invite(other_client, "unknown@example.com", headers=HTMX)

    def neutral(response, email: str) -> str:
        body = response.get_data(as_text=True).replace(email, "EMAIL")
        body = re.sub(r"admin-[ab]@example.com|[AB]cme", "", body)
        return re.sub(r'(\w{3}_\w{26}|value="[^"]+"|datetime="[^"]+"|>[^<]*:\d\d<)', "", body)

    assert known.status_code == unknown.status_code == 200
    assert "Invitation sent to known@example.com" in known.get_data(as_text=True)
    assert neutral(known, "known@example.com") == neutral(unknown, "unknown@example.com")
    # Nobody joined yet, no account was made, no password was set.
    assert db.session.scalar(db.select(User).filter_by(email="unknown@example.com")) is None
    db.session.refresh(elsewhere)
    assert [m.workspace_id for m in elsewhere.memberships] != [ws.id]
    assert len(elsewhere.memberships) == 1
    emails = db.session.scalars(db.select(OutboxMessage).filter_by(channel=Channel.EMAIL))
    assert sorted(m.target for m in emails) == ["known@example.com", "unknown@example.com"]
    # The mailbox of the workspace does not show the administrator either link.
    _forget_signed_in_user()
    mailbox = admin_client.get("/p/settings/mailbox").get_data(as_text=True)
    for message_id in re.findall(r"/p/settings/mailbox/(msg_\w+)", mailbox):
        _forget_signed_in_user()
        body = admin_client.get(f"/p/settings/mailbox/{message_id}").get_data(as_text=True)
        assert "/invitations/" not in body and "text is not shown" in body


def test_someone_new_chooses_a_password_through_the_link_that_arrived_by_smtp(app):
    admin_client, ws = _admin_client(app)
    _invite(admin_client, "Ana@Example.com", role="administrator")

    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            assert worker.run_once() == 1
        finally:
            app.config["MAIL_URL"] = None
        email = mailbox.wait_for(1)[0]
    assert email["To"] == "ana@example.com" and "Acme" in email["Subject"]
    path = LINK.search(email.get_body(("plain",)).get_content()).group(1)

    ana = app.test_client()
    _forget_signed_in_user()
    page = ana.get(path)
    assert page.status_code == 200 and "Choose the password" in page.get_data(as_text=True)
    mismatch = _submit(ana, path, {"password": NEW_PASSWORD, "confirm_password": "other"})
    assert mismatch.status_code == 422 and "differ" in mismatch.get_data(as_text=True)
    response = _submit(
        ana, path, {"name": "Ana", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )

    assert response.status_code == 302 and response.headers["Location"] == "/p/"
    user = db.session.scalar(db.select(User).filter_by(email="ana@example.com"))
    assert user.name == "Ana" and verify_password(user.password_hash, NEW_PASSWORD)
    assert user.membership_in(ws.id).role == "administrator"
    _forget_signed_in_user()
    assert "Acme" in ana.get("/p/").get_data(as_text=True)  # signed in, in Acme
    # Single use: the link no longer works, for anyone.
    _forget_signed_in_user()
    again = app.test_client().get(path)
    assert again.status_code == 404 and "does not work" in again.get_data(as_text=True)


def test_an_existing_account_accepts_and_keeps_its_password(app):
    admin_client, ws = _admin_client(app)
    ana = factories.user(factories.workspace("Elsewhere"), email="ana@example.com")
    old_hash = ana.password_hash
    _invite(admin_client, "ana@example.com")
    path = _emailed_link("ana@example.com")

    browser = app.test_client()
    _forget_signed_in_user()
    page = browser.get(path)
    assert "keeps its password" in page.get_data(as_text=True)
    assert 'name="password"' not in page.get_data(as_text=True)
    response = _submit(browser, path)

    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    db.session.expire_all()
    membership = db.session.scalar(
        db.select(Membership).filter_by(user_id=ana.id, workspace_id=ws.id)
    )
    assert membership.role == "manager" and membership.active
    assert db.session.get(User, ana.id).password_hash == old_hash
    _forget_signed_in_user()
    browser.get("/login")  # the flash of the redirect
    assert AuthActions(browser).login("ana@example.com").status_code == 302
    _forget_signed_in_user()
    token = csrf_token(browser, "/p/")
    switched = browser.post(f"/p/workspace/{ws.id}", data={"csrf_token": token})
    assert switched.status_code == 302
    _forget_signed_in_user()
    assert app.test_client().get(path).status_code == 404  # used once


def test_an_expired_invitation_link_does_not_work(app):
    admin_client, _ = _admin_client(app)
    _invite(admin_client, "late@example.com")
    path = _emailed_link("late@example.com")
    invitation = db.session.scalar(db.select(Invitation).filter_by(email="late@example.com"))
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    browser = app.test_client()
    _forget_signed_in_user()
    page = browser.get(path)
    _forget_signed_in_user()
    post = browser.post(path, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})

    assert page.status_code == 404 and post.status_code in (400, 404)
    assert db.session.scalar(db.select(User).filter_by(email="late@example.com")) is None


def test_inviting_again_replaces_the_link_and_withdrawing_ends_it(app):
    admin_client, _ = _admin_client(app)
    _invite(admin_client, "ana@example.com")
    first = _emailed_link("ana@example.com")
    _invite(admin_client, "ana@example.com", role="administrator")
    second = _emailed_link("ana@example.com")
    browser = app.test_client()

    _forget_signed_in_user()
    assert browser.get(first).status_code == 404
    _forget_signed_in_user()
    assert browser.get(second).status_code == 200
    _forget_signed_in_user()
    listed = admin_client.get("/p/settings/users").get_data(as_text=True)
    assert listed.count('<td class="cell-wrap">ana@example.com</td>') == 1
    invitation = db.session.scalar(
        db.select(Invitation).filter_by(email="ana@example.com", revoked_at=None)
    )
    _forget_signed_in_user()
    token = csrf_token(admin_client, "/p/")
    withdrawn = admin_client.post(
        f"/p/settings/users/invitations/{invitation.id}/withdraw", data={"csrf_token": token}
    )

    assert withdrawn.status_code == 302
    _forget_signed_in_user()
    assert browser.get(second).status_code == 404


def test_a_manager_cannot_invite_and_another_workspace_cannot_withdraw(app):
    ws, other_ws = factories.workspace(), factories.workspace()
    manager = factories.user(ws, role=Role.MANAGER, email="manager@example.com")
    admin = factories.user(ws, email="admin@example.com")
    other_admin = factories.user(other_ws, email="other-admin@example.com")
    manager_client, admin_client, other_client = (app.test_client() for _ in range(3))
    for client, person in (
        (manager_client, manager),
        (admin_client, admin),
        (other_client, other_admin),
    ):
        _forget_signed_in_user()
        AuthActions(client).login(person.email)
    _invite(other_client, "ana@example.com")
    invitation = db.session.scalar(db.select(Invitation).filter_by(email="ana@example.com"))

    refused = _invite(manager_client, "eve@example.com")
    _forget_signed_in_user()
    token = csrf_token(admin_client, "/p/")
    withdraw = admin_client.post(
        f"/p/settings/users/invitations/{invitation.id}/withdraw", data={"csrf_token": token}
    )

    assert refused.status_code == 403
    assert withdraw.status_code == 404
    assert db.session.scalar(db.select(Invitation).filter_by(email="eve@example.com")) is None
    db.session.refresh(invitation)
    assert invitation.revoked_at is None and invitation.workspace_id == other_ws.id


def test_the_same_invitation_again_within_a_minute_says_so_and_sends_nothing(app):
    """A repeat (a double click, a second tab) keeps the first link; the administrator is told
    nothing was sent again, not "Invitation sent" for an email that never leaves."""
    admin_client, _ = _admin_client(app)
    first = _invite(admin_client, "ana@example.com", follow_redirects=True)
    link = _emailed_link("ana@example.com")
    again = _invite(admin_client, "ana@example.com", follow_redirects=True)

    assert "Invitation sent to ana@example.com" in first.get_data(as_text=True)
    said = again.get_data(as_text=True)
    assert "less than a minute ago" in said and "Nothing was sent again." in said
    assert "Invitation sent to" not in said
    emails = db.session.scalars(
        db.select(OutboxMessage).filter_by(channel=Channel.EMAIL, target="ana@example.com")
    ).all()
    assert len(emails) == 1
    _forget_signed_in_user()
    assert app.test_client().get(link).status_code == 200
