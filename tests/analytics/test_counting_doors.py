"""What the API doors and the beacon's `Origin` change in the form funnel: an API call refused
by validation counts as `invalid` by field; a beacon sent from a site that may not embed the
form is answered and not counted."""

from __future__ import annotations

from leadsite.models import FormEvent, OriginKind
from tests import factories
from tests.analytics.helpers import CHROME, counts

SHOP = "https://shop.example.com"


def _api_world():
    ws = factories.workspace()
    funnel = factories.staged_funnel(ws)
    factories.data_point(ws, "team_size", type="number")
    return factories.origin(funnel, OriginKind.API), factories.api_key(ws)


def test_an_api_call_refused_by_validation_counts_invalid_per_failing_field(client):
    origin, key = _api_world()
    headers = {"Authorization": f"Bearer {key}"}

    refused = client.post(
        f"/api/v1/leads?ref={origin.ref}",
        json={
            "Email": "not-an-email",
            "PhoneNumber": "12",
            "JourneyData": [
                {"Name": "team_size", "Value": "lots"},
                {"Name": "team_size", "Value": "many"},
            ],
        },
        headers=headers,
    )
    accepted = client.post(
        f"/api/v1/leads?ref={origin.ref}", json={"Email": "ada@example.com"}, headers=headers
    )

    assert (refused.status_code, accepted.status_code) == (422, 201)
    invalid = counts(origin, FormEvent.INVALID)
    assert invalid == {
        ("invalid", "email", "", ""): 1,
        ("invalid", "phone", "", ""): 1,
        ("invalid", "journey_data", "", ""): 1,
    }
    assert counts(origin, FormEvent.REGISTERED_NEW) == {("registered_new", "", "", ""): 1}


def test_a_beacon_from_a_site_the_embed_does_not_allow_is_answered_and_not_counted(client):
    funnel = factories.staged_funnel(factories.workspace())
    embed = factories.origin(
        funnel, OriginKind.EMBED, allowed_domains=[SHOP, "https://*.partner.example"]
    )

    def beacon(origin_header: str | None) -> int:
        headers = {"User-Agent": CHROME}
        if origin_header is not None:
            headers["Origin"] = origin_header
        return client.post(f"/b/{embed.ref}", data={"event": "view"}, headers=headers).status_code

    answers = [
        beacon("https://evil.example"),  # a foreign site
        beacon("null"),  # a sandboxed page
        beacon(SHOP),  # allowed
        beacon("https://blog.partner.example"),  # allowed by its pattern
        beacon("http://localhost"),  # this site (the embed frame's own script)
        beacon(None),  # no browser: the token-less beacon carries nothing to check
    ]

    assert answers == [204] * 6
    assert counts(embed, FormEvent.VIEW) == {("view", "", "", ""): 4}


def test_a_batch_refused_whole_counts_invalid_at_once(client):
    # A door that took the write lock at its start (the batch's did) and answered 422 still
    # held it when the count was made: with no interval (this suite's) the counters' writer
    # waited out the busy timeout for it, then dropped the count.
    origin, key = _api_world()
    headers = {"Authorization": f"Bearer {key}"}

    refused = client.post(f"/api/v1/leads/batch?ref={origin.ref}", json={}, headers=headers)

    assert refused.status_code == 422
    assert counts(origin, FormEvent.INVALID) == {("invalid", "body", "", ""): 1}
