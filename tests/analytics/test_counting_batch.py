"""A batch's registrations are counted on its origin as each would be alone: new or returning,
by each input's referring host and campaign; refused inputs are not counted."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import OriginKind
from leadsite.registration import LeadInput, RegistrationContext
from leadsite.registration.batch import register_many
from tests import factories
from tests.analytics.helpers import counts


def test_a_batch_counts_each_registration_by_kind_referrer_and_campaign():
    ws = factories.workspace()
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.IMPORT)
    db.session.commit()
    register_many(origin, [LeadInput(email="old@example.com")], RegistrationContext())
    db.session.commit()
    news = RegistrationContext(referrer="https://News.example.com/a?b=1")
    blog = RegistrationContext(referrer="blog.example.org")
    plain = RegistrationContext()
    inputs = [
        LeadInput(email="a@example.com"),
        LeadInput(email="b@example.com", utm={"utm_campaign": "spring"}),
        LeadInput(email="c@example.com", utm={"utm_campaign": "spring"}),
        LeadInput(email="d@example.com"),
        LeadInput(email="old@example.com"),  # returning
        LeadInput(email="not an address"),  # refused: not counted
        LeadInput(email="e@example.com", utm={"utm_campaign": "spring"}),
    ]
    contexts = [news, news, news, blog, news, news, plain]

    outcomes = register_many(origin, inputs, plain, contexts=contexts)
    db.session.commit()

    assert [o.status for o in outcomes].count("rejected") == 1
    assert counts(origin) == {
        ("registered_new", "", "", ""): 1,  # old@, registered first
        ("registered_new", "", "", "spring"): 1,
        ("registered_new", "", "news.example.com", ""): 1,
        ("registered_new", "", "news.example.com", "spring"): 2,
        ("registered_new", "", "blog.example.org", ""): 1,
        ("registered_returning", "", "news.example.com", ""): 1,
    }
