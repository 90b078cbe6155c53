"""The indexes a new lead's rows write, each kept for a query, a unique rule or a cascade.

An import stores about ten rows a new lead (issue 17), and every index of those tables is
written for each of them: an index no query, rule or cascade uses is cost without a reader.
A new index on these tables is welcome, with its reader named here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from leadsite.extensions import db
from leadsite.models import Lead
from tests import factories

# Secondary indexes as the migrations build them, without primary keys and unique constraints
# (uq_*, which SQLite names sqlite_autoindex_*), with what each serves.
KEPT = {
    "leads": {
        "ix_leads_workspace_social_id": "unique share code (`kid`)",
        "ix_leads_workspace_created": "the leads list, newest first",
        "ix_leads_workspace_status_created": "the list's status filter",
        "ix_leads_origin_created": "the list's origin filter",
        "ix_leads_workspace_name_sort": "the list sorted by name",
        "ix_leads_workspace_email_sort": "the list sorted by email",
        "ix_leads_workspace_first_name": "name prefix search",
        "ix_leads_workspace_last_name": "name prefix search",
        "ix_leads_workspace_held": "held leads (partial): the list's count, their list, erasure",
    },
    "journeys": {
        "ix_journeys_funnel_created": "a funnel's journeys (analytics, the list's funnel filter)",
        "ix_journeys_workspace_id": "a workspace's journeys",
        "ix_journeys_awaiting_created": "awaiting journeys (partial): the unconfirmed ones",
    },
    "journey_steps": {
        "ix_journey_steps_status_due": "the worker's due steps",
        "ix_journey_steps_journey_status": "a journey's (due) steps; the journeys' cascade",
        "ix_journey_steps_open_staff_tasks": "My tasks",
    },
    "journey_data": {"ix_journey_data_data_point_id": "a data point's RESTRICT on delete"},
    "events": {"ix_events_lead_created": "a lead's timeline; the held lead's cascade"},
    "outbox_messages": {
        "ix_outbox_messages_status_next": "the worker's due messages, retention",
        "ix_outbox_messages_endpoint_id": "an endpoint's messages; its CASCADE on delete",
        "ix_outbox_messages_lead_id": "a lead's messages (erasure); its SET NULL",
        "ix_outbox_messages_event_id": "the SET NULL when a held lead's event is deleted",
        "ix_outbox_messages_step_id": "settling webhook steps (housekeeping's join)",
    },
    "webhook_endpoints": {
        "ix_webhook_endpoints_workspace_id": "a workspace's endpoints",
        "ix_webhook_endpoints_lead_id": "a lead's endpoints, for each event; its CASCADE",
    },
    "journey_counts": {},
    "journey_durations": {"ix_journey_durations_bucket": "percentiles read from a bucket"},
}
# Declared with `.ddl_if(dialect="postgresql")`: on SQLite the unique (workspace_id, email) and
# (workspace_id, phone) serve the prefixes, and SQLite has no index of JSON array members.
POSTGRESQL_ONLY = {
    "leads": {
        "ix_leads_workspace_email_pattern": "unique email; the match; prefixes (text_pattern_ops)",
        "ix_leads_workspace_phone_pattern": "unique phone; the match; phone prefixes",
        "ix_leads_tags": "the list's tag filter (GIN)",
    }
}


def _secondary_indexes(table: str) -> set[str]:
    if db.engine.dialect.name == "postgresql":
        query = (
            "SELECT indexname FROM pg_indexes WHERE tablename = :table "
            "AND indexname NOT LIKE 'pk\\_%' AND indexname NOT LIKE 'uq\\_%'"
        )
    else:
        query = (
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table "
            "AND name NOT LIKE 'sqlite\\_autoindex\\_%' ESCAPE '\\'"
        )
    return set(db.session.scalars(text(query), {"table": table}))


def test_postgresql_keeps_email_and_phone_unique_by_their_prefix_indexes():
    """One index each on PostgreSQL for the rule, the match's `=` and `LIKE 'abc%'`."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's unique constraints serve prefixes as ranges")
    constraints = set(
        db.session.scalars(
            text(
                "SELECT conname FROM pg_constraint "
                "WHERE conrelid = 'leads'::regclass AND contype = 'u'"
            )
        )
    )
    unique = set(
        db.session.scalars(
            text(
                "SELECT indexrelid::regclass::text FROM pg_index "
                "WHERE indrelid = 'leads'::regclass AND indisunique AND NOT indisprimary"
            )
        )
    )

    # uq_leads_id_workspace_id: what journeys' and events' one key to their lead and its
    # workspace names (0013_fk_checks).
    assert constraints == {"uq_leads_workspace_id_unique_id", "uq_leads_id_workspace_id"}
    assert unique == {
        "uq_leads_workspace_id_unique_id",
        "uq_leads_id_workspace_id",
        "ix_leads_workspace_social_id",
        "ix_leads_workspace_email_pattern",
        "ix_leads_workspace_phone_pattern",
    }


def test_a_new_leads_rows_write_only_the_indexes_something_reads():
    postgres = db.engine.dialect.name == "postgresql"
    for table, kept in KEPT.items():
        expected = set(kept) | (set(POSTGRESQL_ONLY.get(table, {})) if postgres else set())

        assert _secondary_indexes(table) == expected, table


@pytest.mark.parametrize(
    "identifier, value", [("email", "ada@example.com"), ("phone", "+447700900123")]
)
def test_the_database_refuses_a_second_lead_with_an_identifier_in_the_workspace(identifier, value):
    """The rule the registration's race retry rests on, on both databases."""
    ws, other = factories.workspace(), factories.workspace()
    factories.lead(ws, **{identifier: value})
    factories.lead(other, **{identifier: value})  # another workspace's lead may have it
    factories.lead(ws, email=None, phone=None)
    factories.lead(ws, email=None, phone=None)  # absent identifiers never collide

    with pytest.raises(IntegrityError):
        factories.lead(ws, **{"email": None, identifier: value})
    db.session.rollback()

    assert db.session.scalar(select(func.count()).where(getattr(Lead, identifier) == value)) == 2
