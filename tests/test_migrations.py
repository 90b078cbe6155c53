"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import Row, create_engine, inspect, text

from leadsite import create_app
from leadsite.extensions import db

# SQLite's expression indexes (the leads list's sort orders, leadsite/leads/sort.py) cannot be
# reflected: SQLAlchemy skips them with a warning and Alembic leaves the models' side out with
# another. tests/test_lead_list_indexes.py compares them by their SQL instead.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning"
    ),
    pytest.mark.filterwarnings(
        "ignore:autogenerate skipping metadata-specified expression-based index:UserWarning"
    ),
]


def _declared_for_this_database(obj, name, type_, reflected, compare_to) -> bool:
    """As migrations/env.py: `Index(...).ddl_if(dialect=...)` is compared on that dialect only."""
    ddl_if = getattr(obj, "_ddl_if", None)
    if ddl_if is None or ddl_if.dialect is None:
        return True
    dialects = [ddl_if.dialect] if isinstance(ddl_if.dialect, str) else ddl_if.dialect
    return db.engine.dialect.name in dialects


def test_migrated_schema_equals_the_models():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": _declared_for_this_database},
        )
        diff = compare_metadata(context, db.metadata)

    assert diff == []


def test_lead_lookups_have_their_indexes():
    inspector = inspect(db.engine)
    # On PostgreSQL email and phone are unique by their prefix indexes (0011_lean_indexes).
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("leads")}
    uniques |= {tuple(i["column_names"]) for i in inspector.get_indexes("leads") if i["unique"]}
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


OLD_WORKSPACE = (
    "INSERT INTO workspaces (id, name, slug, timezone, default_country, created_at, updated_at) "
    "VALUES ('ws_1', 'Old', 'old', 'UTC', 'US', '2026-01-01', '2026-01-01')"
)


def upgraded_from(tmp_path: Path, revision: str, rows: list[str], query: str) -> list[Row]:
    """A SQLite database migrated to `revision`, given `rows` (INSERT statements), then upgraded
    to the head: what `query` reads from it."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with old.app_context():
        upgrade(revision=revision)
        with db.engine.begin() as connection:
            for row in rows:
                connection.execute(text(row))
        upgrade()
        db.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as connection:
        found = list(connection.execute(text(query)))
    engine.dispose()
    return found


def test_upgrading_a_sqlite_database_keeps_the_rows_that_refer_to_an_altered_table(tmp_path):
    """A batch migration recreates its table; the rows referring to it (ON DELETE CASCADE)
    must survive the DROP that makes (foreign keys are off while migrating, migrations/env.py)."""
    lead = (
        "INSERT INTO leads (id, workspace_id, email, tags, custom_fields, counter, opt_in, "
        "sms_opt_in, status, created_at, updated_at) VALUES ('lead_1', 'ws_1', 'a@example.com', "
        "'[]', '{}', 1, 0, 0, 'new', '2026-01-01', '2026-01-01')"
    )

    leads = upgraded_from(tmp_path, "0003", [OLD_WORKSPACE, lead], "SELECT id, email FROM leads")

    assert [tuple(row) for row in leads] == [("lead_1", "a@example.com")]
