"""The dev mailbox: the workspace's emails, newest first, and whether MAIL_URL sends them."""

from __future__ import annotations

import re
import time

from leadsite.backoffice.settings_mailbox import PAGE_SIZE
from leadsite.extensions import db
from leadsite.models import Channel, MessageStatus, OutboxMessage, Role, Workspace, utcnow
from leadsite.outbox import worker
from tests import factories

HTMX = {"HX-Request": "true"}


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def test_emails_are_listed_newest_first_with_subject_recipient_and_status(client, auth):
    ws = _sign_in(auth)
    older = factories.email_message(ws, "ada@example.com", "Welcome to the demo")
    time.sleep(0.002)  # ids order by the millisecond they were made in
    newer = factories.email_message(ws, "sales@example.com", "New lead: Ada")
    newer.status, newer.delivered_at = MessageStatus.DELIVERED, utcnow()
    older.status, older.last_error = MessageStatus.DEAD, "SMTPServerDisconnected: gone"
    db.session.commit()

    full = client.get("/p/settings/mailbox")
    partial = client.get("/p/settings/mailbox", headers=HTMX)

    body = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in body
    assert body.index("New lead: Ada") < body.index("Welcome to the demo")
    assert "sales@example.com" in body and ">Sent</span>" in body
    assert ">Not sent: given up</span>" in body and "SMTPServerDisconnected" in body
    fragment = partial.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="mailbox"') and "<html" not in fragment


def test_the_page_says_whether_mail_url_is_configured(client, auth, app):
    _sign_in(auth)

    unset = client.get("/p/settings/mailbox").get_data(as_text=True)
    app.config["MAIL_URL"] = "smtp://user:s3cret@mail.example.com:587"
    try:
        configured = client.get("/p/settings/mailbox").get_data(as_text=True)
    finally:
        app.config["MAIL_URL"] = None

    assert "MAIL_URL is not configured: emails are <strong>not sent</strong>" in unset
    assert "MAIL_URL is configured" in configured
    assert "smtp://mail.example.com:587" in configured and "s3cret" not in configured


def test_an_email_opens_with_its_text(client, auth):
    ws = _sign_in(auth)
    message = factories.email_message(
        ws,
        subject="Welcome, Ada",
        text="Hello Ada,\n\n<b>not html</b>\nSee you.",
        headers={"List-Unsubscribe": "<http://localhost/unsubscribe/x>"},
    )
    path = f"/p/settings/mailbox/{message.id}"

    full = client.get(path)
    partial = client.get(path, headers=HTMX)

    body = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in body
    assert "Welcome, Ada" in body and "Hello Ada,\n\n&lt;b&gt;not html&lt;/b&gt;\nSee you." in body
    assert "List-Unsubscribe" in body
    fragment = partial.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<article class="card email" id="email-{message.id}"')
    assert "<html" not in fragment


def test_older_emails_come_a_page_at_a_time(client, auth):
    ws = _sign_in(auth)
    subjects = {f"Email {index:03d}" for index in range(PAGE_SIZE + 2)}
    for subject in sorted(subjects):
        factories.email_message(ws, subject=subject)

    first = client.get("/p/settings/mailbox").get_data(as_text=True)
    cursor = first.split("/p/settings/mailbox?before=")[1].split('"')[0]
    second = client.get(f"/p/settings/mailbox?before={cursor}").get_data(as_text=True)

    def shown(body: str) -> set[str]:
        return {subject for subject in subjects if f">{subject}</a>" in body}

    assert first.count("<tr id=") == PAGE_SIZE and second.count("<tr id=") == 2
    assert shown(first) | shown(second) == subjects and not shown(first) & shown(second)
    assert "Older emails" in first and "Older emails" not in second


def test_only_this_workspaces_emails_are_shown_or_opened(client, auth):
    _sign_in(auth)
    theirs = factories.email_message(factories.workspace(), subject="Their secret email")
    webhook = OutboxMessage(
        workspace_id=theirs.workspace_id, channel=Channel.WEBHOOK, target="https://x.example"
    )
    db.session.add(webhook)
    db.session.commit()

    assert "Their secret email" not in client.get("/p/settings/mailbox").get_data(as_text=True)
    assert client.get(f"/p/settings/mailbox/{theirs.id}").status_code == 404
    assert client.get(f"/p/settings/mailbox/{webhook.id}").status_code == 404


def test_a_webhook_message_is_not_an_email(client, auth):
    ws = _sign_in(auth)
    message = OutboxMessage(workspace_id=ws.id, channel=Channel.WEBHOOK, target="https://x.example")
    db.session.add(message)
    db.session.commit()

    assert client.get(f"/p/settings/mailbox/{message.id}").status_code == 404
    assert "x.example" not in client.get("/p/settings/mailbox").get_data(as_text=True)


def test_a_manager_reads_the_mailbox(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)
    message = factories.email_message(ws, subject="For managers too")

    assert "For managers too" in client.get("/p/settings/mailbox").get_data(as_text=True)
    assert client.get(f"/p/settings/mailbox/{message.id}").status_code == 200


def test_an_email_kept_in_the_dev_mailbox_does_not_say_delivered(client, auth):
    ws = _sign_in(auth)
    message = factories.email_message(ws, subject="Welcome, Ada")
    worker.run_once()  # MAIL_URL unset: kept here
    db.session.refresh(message)
    assert message.status == MessageStatus.DELIVERED

    listed = client.get("/p/settings/mailbox").get_data(as_text=True)
    opened = client.get(f"/p/settings/mailbox/{message.id}").get_data(as_text=True)

    assert "emails are <strong>not sent</strong>" in listed
    assert ">Kept here, not sent</span>" in listed and "delivered" not in listed.lower()
    assert "<dd>Kept here, not sent, " in opened and "delivered" not in opened.lower()


def test_the_html_of_an_email_is_shown_in_a_sandboxed_frame_whose_links_open_a_new_tab(
    client, auth
):
    ws = _sign_in(auth)
    html = '<p>Hi <a href="https://shop.example/">shop</a></p><script>alert(1)</script>'
    message = factories.email_message(ws, subject="Welcome", html=html)
    path = f"/p/settings/mailbox/{message.id}"

    page = client.get(path).get_data(as_text=True)
    framed = client.get(f"{path}/html")

    frame = re.search(r"<iframe [^>]*>", page)[0]
    assert f'src="{path}/html"' in frame
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame
    assert framed.status_code == 200 and framed.mimetype == "text/html"
    assert framed.get_data(as_text=True) == '<base target="_blank">' + html
    policy = framed.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox allow-popups allow-popups-to-escape-sandbox;")
    assert "allow-scripts" not in policy and "allow-same-origin" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_a_private_emails_html_is_not_served_to_another_reader(client, auth):
    ws = _sign_in(auth)
    message = factories.email_message(
        ws, to="someone@example.com", html="<a href='x'>reset</a>", private=True
    )

    assert client.get(f"/p/settings/mailbox/{message.id}/html").status_code == 404
    assert "<iframe" not in client.get(f"/p/settings/mailbox/{message.id}").get_data(as_text=True)
