"""Opt-out from the link every email to a lead carries: a button, or a mail client's POST."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.journeys.emails import unsubscribe_token
from leadsite.models import Event, Lead
from leadsite.outbox import event_types
from tests import factories


def opted_out_events() -> int:
    query = db.select(db.func.count(Event.id)).filter_by(type=event_types.LEAD_OPTED_OUT)
    return db.session.scalar(query)


def test_the_link_shows_one_button_and_changes_nothing_by_itself(client):
    lead = factories.lead(factories.workspace(), email="ada@example.com")
    token = unsubscribe_token(lead)

    response = client.get(f"/unsubscribe/{token}")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<form method="post" action="/unsubscribe/{token}">' in body
    assert ">Unsubscribe</button>" in body
    assert "a•••@example.com" in body and "ada@example.com" not in body
    assert db.session.get(Lead, lead.id).opted_out_at is None


def test_the_button_opts_the_lead_out_and_writes_the_event(client):
    lead = factories.lead(factories.workspace())

    response = client.post(f"/unsubscribe/{unsubscribe_token(lead)}")

    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).opted_out_at is not None
    assert opted_out_events() == 1


def test_a_mail_clients_one_click_post_opts_out_rfc_8058(client):
    lead = factories.lead(factories.workspace())

    response = client.post(
        f"/unsubscribe/{unsubscribe_token(lead)}", data={"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 200
    assert db.session.get(Lead, lead.id).opted_out_at is not None


def test_unsubscribing_twice_is_harmless(client):
    lead = factories.lead(factories.workspace())
    path = f"/unsubscribe/{unsubscribe_token(lead)}"

    client.post(path)
    again = client.post(path)
    page = client.get(path)

    assert again.status_code == 200
    assert "You are unsubscribed" in page.get_data(as_text=True)
    assert "<form" not in page.get_data(as_text=True)
    assert opted_out_events() == 1


def test_a_link_we_did_not_make_or_an_erased_lead_is_404(client):
    erased = factories.lead(factories.workspace(), erased_at=db.func.now())

    forged = client.post("/unsubscribe/bGVhZF8x.forged")
    gone = client.get(f"/unsubscribe/{unsubscribe_token(erased)}")

    assert forged.status_code == gone.status_code == 404
    assert "This link does not work" in forged.get_data(as_text=True)
