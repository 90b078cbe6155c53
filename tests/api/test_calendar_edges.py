"""List filters at the calendar's edges (0001-01-01, 9999-12-31, with offsets): never a 500."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api.conftest import ApiWorld

EDGES = [
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59.999999",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59Z",
]


@pytest.mark.parametrize("value", EDGES)
@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_api_list_filters_at_the_calendars_edges_answer(api: ApiWorld, name, value):
    lead = factories.lead(api.workspace)

    response = api.get("/api/v1/leads", query_string={name: value})

    assert response.status_code == 200
    ids = [item["id"] for item in response.json["data"]]
    # Everything was created after year 1 and before year 9999.
    assert ids == ([lead.id] if (name == "created_after") == value.startswith("0001") else [])
