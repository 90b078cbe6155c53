"""Confirmations and conversions counted on the journey's origin, once, when committed; and the
journey's first- and last-touch attribution."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.journeys.engine import complete_step
from leadsite.models import ActivityKind, Funnel, Journey, JourneyStep, Lead, OriginKind
from leadsite.public.tokens import confirm_token
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.analytics.helpers import counts, stored, total
from tests.public.helpers import post_form

SOURCE = "https://shop.example/pricing?utm_source=news&utm_medium=email&utm_campaign=spring"


def sign_up(origin, email: str = "ada@example.com", **fields) -> Journey:
    context = RegistrationContext(referrer=fields.pop("referrer", None))
    return register(origin, LeadInput(email=email, **fields), context).journey


def test_a_confirmation_counts_once_on_the_origin_with_the_first_touch(client):
    funnel = factories.staged_funnel(factories.workspace(), double_opt_in=True)
    origin = factories.origin(funnel, OriginKind.PAGE)
    journey = sign_up(origin, source_url=SOURCE, referrer="https://www.google.com/")
    token = confirm_token(journey.lead_id, journey.id)

    assert counts(origin, "confirmed") == {}
    assert client.post(f"/confirm/{token}").status_code == 200
    assert client.post(f"/confirm/{token}").status_code == 200  # "You had confirmed already"

    assert counts(origin, "confirmed") == {("confirmed", "", "www.google.com", "spring"): 1}


def test_a_journey_completed_by_staff_counts_a_conversion_when_committed():
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Call"), ActivityKind.STAFF_TASK, "Call")
    origin = factories.origin(funnel, OriginKind.API)
    journey = sign_up(origin, source_url=SOURCE)
    [step] = journey.steps

    complete_step(step, actor_id=factories.user(ws).id)
    assert stored(origin, "converted") == 0  # not before the commit
    db.session.rollback()
    db.session.expire_all()
    assert stored(origin, "converted") == 0  # nor after a rollback

    complete_step(db.session.get(JourneyStep, step.id), actor_id=factories.user(ws).id)
    db.session.commit()
    assert counts(origin, "converted") == {("converted", "", "", "spring"): 1}


def test_a_journey_that_ends_as_it_starts_counts_one_conversion():
    origin = factories.origin(factories.funnel(factories.workspace()), OriginKind.IMPORT)

    assert sign_up(origin).status == "completed"  # no stages: started, and done

    assert counts(origin, "converted") == {("converted", "", "", ""): 1}
    assert total(origin, "registered_new") == 1


def test_a_journey_records_first_and_last_touch_and_the_share_code(client):
    ws = factories.workspace()
    fields = [{"field": "email"}]
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.PAGE, form_fields=fields)
    api = factories.origin(db.session.get(Funnel, origin.funnel_id))
    friend = factories.lead(ws, email="friend@example.com", social_id="abcd2345")

    post_form(
        client,
        f"/r/{origin.ref}",
        origin.ref,
        email="ada@example.com",
        _source_url=SOURCE,
        _referrer="https://www.google.com/search?q=x",
        _kid="ABCD2345",
    )
    journey = db.session.scalar(db.select(Journey))
    first = (journey.referrer_host, journey.utm_source, journey.utm_medium, journey.utm_campaign)
    assert first == ("www.google.com", "news", "email", "spring")
    assert (journey.last_referrer_host, journey.last_utm_campaign) == ("www.google.com", "spring")
    assert journey.share_code == "abcd2345"
    assert db.session.get(Lead, journey.lead_id).referred_by == friend.id

    # A later visit from a newsletter: the last touch moves, the first stays.
    post_form(
        client,
        f"/r/{origin.ref}",
        origin.ref,
        email="ada@example.com",
        _referrer="https://mail.example.net/",
        _utm_campaign="autumn",
        _utm_source="newsletter",
    )
    db.session.expire_all()
    journey = db.session.get(Journey, journey.id)
    assert journey.utm_campaign == "spring" and journey.referrer_host == "www.google.com"
    last = (journey.last_referrer_host, journey.last_utm_source, journey.last_utm_medium)
    assert last == ("mail.example.net", "newsletter", None)
    assert journey.last_utm_campaign == "autumn"

    # An API update that brings no attribution leaves the last touch where it was.
    sign_up(api, email="ada@example.com", first_name="Ada")
    db.session.expire_all()
    assert db.session.get(Journey, journey.id).last_utm_campaign == "autumn"


def test_a_share_code_that_names_no_lead_is_not_recorded():
    origin = factories.origin(factories.staged_funnel(factories.workspace()), OriginKind.API)

    journey = sign_up(origin, referral_code="zzzz9999")

    assert journey.share_code is None and journey.referrer_host is None
