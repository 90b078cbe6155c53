"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from leadsite.extensions import db


def test_migrated_schema_equals_the_models():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)

    assert diff == []


def test_lead_lookups_have_their_indexes():
    inspector = inspect(db.engine)
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("leads")}
    indexes = {tuple(i["column_names"]) for i in inspector.get_indexes("leads")}
    origin_indexes = {
        (tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes("origins")
    }

    assert {
        ("workspace_id", "email"),
        ("workspace_id", "phone"),
        ("workspace_id", "unique_id"),
    } <= uniques
    assert ("workspace_id", "created_at", "id") in indexes
    assert (("ref",), True) in origin_indexes
