"""The funnels list: status, lead and origin counts from one query, public ids, isolation."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import FunnelStatus, OriginKind, Role, Workspace
from tests import factories
from tests.statements import captured_statements

HTMX = {"HX-Request": "true"}


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _row(body: str, funnel_id: str) -> str:
    """The table row that shows this funnel's public id."""
    before, _, after = body.partition(funnel_id)
    assert _, f"{funnel_id} not shown"
    return before.rsplit("<tr>", 1)[1] + funnel_id + after.split("</tr>", 1)[0]


def _is_select(statement: str) -> bool:
    return statement.lstrip().upper().startswith("SELECT")


def test_the_page_is_whole_without_htmx_and_only_the_table_with_it(client, auth):
    ws = _sign_in(auth)
    factories.funnel(ws, "Onboarding")

    full = client.get("/p/funnels")
    partial = client.get("/p/funnels", headers=HTMX)

    assert full.status_code == partial.status_code == 200
    assert "<html" in full.get_data(as_text=True)
    fragment = partial.get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="funnel-table"')
    assert "Onboarding" in fragment
    assert "HX-Request" in partial.headers["Vary"] and "HX-Request" in full.headers["Vary"]


def test_each_funnel_shows_status_leads_origins_and_public_id(client, auth):
    ws = _sign_in(auth)
    busy = factories.funnel(ws, "Busy", status=FunnelStatus.ACTIVE)
    quiet = factories.funnel(ws, "Quiet", status=FunnelStatus.DRAFT)
    web = factories.origin(busy)
    factories.origin(busy, OriginKind.PAGE)
    for index in range(3):
        factories.journey(factories.lead(ws, email=f"l{index}@example.com"), busy, web)

    body = client.get("/p/funnels").get_data(as_text=True)

    busy_row, quiet_row = _row(body, busy.id), _row(body, quiet.id)
    assert "Busy" in busy_row and 'data-status="active"' in busy_row
    assert '<td class="num">3</td>' in busy_row and '<td class="num">2</td>' in busy_row
    assert "Quiet" in quiet_row and 'data-status="draft"' in quiet_row
    assert quiet_row.count('<td class="num">0</td>') == 2
    assert f'<code class="public-id">{busy.id}</code>' in busy_row
    assert busy.id.startswith("fnl_")


def test_counts_take_the_same_queries_for_one_funnel_or_many(client, auth):
    ws = _sign_in(auth)
    first = factories.funnel(ws, "First")
    factories.journey(factories.lead(ws), first)
    db.session.expire_all()  # the request reloads the user and workspace either way
    with captured_statements(_is_select) as one:
        client.get("/p/funnels")
    for index in range(5):
        funnel = factories.funnel(ws, f"More {index}")
        factories.origin(funnel)
        factories.journey(factories.lead(ws), funnel)
    db.session.expire_all()
    with captured_statements(_is_select) as six:
        body = client.get("/p/funnels").get_data(as_text=True)

    assert body.count('class="public-id"') == 6
    assert len(six) == len(one)


def test_funnels_and_journeys_of_another_workspace_are_not_shown_or_counted(client, auth):
    mine, theirs = factories.workspace("Mine"), factories.workspace("Theirs")
    _sign_in(auth, mine)
    shared_name = factories.funnel(mine, "Mine only")
    hidden = factories.funnel(theirs, "Their secret funnel")
    factories.journey(factories.lead(theirs), hidden)

    body = client.get("/p/funnels").get_data(as_text=True)

    assert "Their secret funnel" not in body and hidden.id not in body
    assert '<td class="num">0</td>' in _row(body, shared_name.id)


def test_no_funnels_says_so(client, auth):
    _sign_in(auth)

    body = client.get("/p/funnels").get_data(as_text=True)

    assert "No funnels yet" in body and "<table" not in body


def test_a_manager_can_list_funnels(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)
    factories.funnel(ws, "Visible to managers")

    response = client.get("/p/funnels")

    assert response.status_code == 200
    assert "Visible to managers" in response.get_data(as_text=True)
    nav = client.get("/p/").get_data(as_text=True).split("</nav>")[0]
    for label in ("Leads", "Funnels", "Data points"):
        assert f">{label}</a>" in nav
