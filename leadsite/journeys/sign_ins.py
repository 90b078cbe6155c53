"""Leads sign in to the front-office by email: one-time links that list their journeys.

A person asks at `/j/login` with an email; every lead with that address (one per workspace that
knows them; not erased, not held) gets its own link by email, from its own workspace. A link
signs in that one lead, works once, for 15 minutes; only the SHA-256 of its token is stored.
Functions flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import update

from leadsite import i18n
from leadsite.erasure import Traces, eraser
from leadsite.extensions import db
from leadsite.models import Journey, Lead, LeadSignIn, OutboxMessage, Workspace, utcnow
from leadsite.outbox.email import queue_email

SIGN_IN_LIFETIME = timedelta(minutes=15)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def leads_with_email(email: str) -> list[Lead]:
    """The leads a sign-in asked with `email` is for: each workspace's own, with a journey,
    neither erased nor held (a held lead has no journey yet)."""
    # Leads are unique by (workspace, email): naming every workspace lets that index answer,
    # where `email = ?` alone would read the whole table.
    workspace_ids = list(db.session.scalars(db.select(Workspace.id)))
    if not workspace_ids:
        return []
    has_journey = db.select(Journey.id).where(Journey.lead_id == Lead.id).exists()
    return list(
        db.session.scalars(
            db.select(Lead)
            .where(
                Lead.workspace_id.in_(workspace_ids),
                Lead.email == email.strip().lower(),
                Lead.erased_at.is_(None),
                Lead.held.is_(False),
                has_journey,
            )
            .order_by(Lead.created_at)
        )
    )


def open_sign_in(lead: Lead) -> tuple[LeadSignIn, str]:
    """A new one-time link for `lead`; returns it and its token (shown once, in the email).
    The lead's links that have expired are pruned here: they can never be used."""
    now = utcnow()
    db.session.execute(
        db.delete(LeadSignIn).where(LeadSignIn.lead_id == lead.id, LeadSignIn.expires_at < now)
    )
    token = secrets.token_urlsafe(32)
    sign_in = LeadSignIn(
        workspace_id=lead.workspace_id,
        lead_id=lead.id,
        token_hash=_hash(token),
        created_at=now,
        expires_at=now + SIGN_IN_LIFETIME,
    )
    db.session.add(sign_in)
    db.session.flush()
    return sign_in, token


def find_sign_in(token: str) -> LeadSignIn | None:
    """The link this token opens, used or not, while its lead is not erased."""
    sign_in = db.session.scalar(db.select(LeadSignIn).filter_by(token_hash=_hash(token)))
    if sign_in is None or sign_in.lead.erased_at is not None:
        return None
    return sign_in


def usable(sign_in: LeadSignIn) -> bool:
    """Not used yet and inside its lifetime (it may still be spent by someone else first)."""
    return sign_in.used_at is None and sign_in.expires_at > utcnow()


def use_sign_in(sign_in: LeadSignIn) -> bool:
    """Spend the link: True the first time inside its lifetime, False otherwise. Checked and
    marked in one statement, so two clicks racing each other cannot both sign in."""
    now = utcnow()
    spent = db.session.execute(
        update(LeadSignIn)
        .where(
            LeadSignIn.id == sign_in.id,
            LeadSignIn.used_at.is_(None),
            LeadSignIn.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(sign_in)  # as it stands now, whoever spent it
    return spent.rowcount == 1


def email_sign_in_link(lead: Lead) -> OutboxMessage:
    """Open a link for `lead` and email it, from the lead's workspace. The email is private:
    the back-office mailbox does not show staff a link that would sign them in as the lead."""
    assert lead.email, "only a lead with an email address can sign in by email"
    _, token = open_sign_in(lead)
    workspace = db.session.get(Workspace, lead.workspace_id)
    with force_locale(i18n.lead_language(lead)):
        subject = gettext("Sign in to your journeys with %(workspace)s", workspace=workspace.name)
        context = {
            "lead": lead,
            "workspace": workspace,
            "subject": subject,
            "url": f"{current_app.config['BASE_URL']}/j/login/{token}",
            "minutes": int(SIGN_IN_LIFETIME.total_seconds() // 60),
        }
        text = render_template("public/emails/sign_in.txt", **context)
        html = render_template("public/emails/sign_in.html", **context)
    return queue_email(
        lead.workspace_id,
        lead.email,
        subject,
        text,
        html,
        lead_id=lead.id,
        private=True,
    )


def request_sign_in(email: str) -> int:
    """Email a link to every lead with this address; how many were sent is for tests and logs,
    never for the person asking."""
    leads = leads_with_email(email)
    for lead in leads:
        email_sign_in_link(lead)
    return len(leads)


@eraser
def _sign_ins(lead: Lead, traces: Traces) -> None:
    """An erased lead signs in no more, and when they did is forgotten."""
    db.session.execute(db.delete(LeadSignIn).where(LeadSignIn.lead_id == lead.id))
