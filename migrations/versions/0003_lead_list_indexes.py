"""lead list indexes

Indexes for the leads list (leadsite/leads/search.py) at a million leads: newest first by status
and by origin, prefix search on names, emails and phones, and the tag filter. PostgreSQL's
`LIKE 'abc%'` needs text_pattern_ops (the default operator class follows the collation, which
LIKE cannot use); SQLite searches the range [prefix, successor), which plain indexes serve, and
its unique constraints on (workspace_id, email) and (workspace_id, phone) already do.

The funnel filter needs nothing new: ix_journeys_funnel_created leads with funnel_id, and the
unique (lead_id, funnel_id) serves the per-lead check.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _lower(name):
    # Labelled so that postgresql_ops can name the expression.
    return sa.func.lower(sa.column(name)).label(f"{name}_lower")


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_index(
        "ix_leads_workspace_status_created", "leads", ["workspace_id", "status", "created_at", "id"]
    )
    # Replaces ix_leads_origin_id: it serves the origin filter in order, and the foreign key.
    op.create_index("ix_leads_origin_created", "leads", ["origin_id", "created_at", "id"])
    op.drop_index("ix_leads_origin_id", table_name="leads")
    for name in ("first_name", "last_name"):
        op.create_index(
            f"ix_leads_workspace_{name}",
            "leads",
            ["workspace_id", _lower(name)],
            postgresql_ops={f"{name}_lower": "text_pattern_ops"},
        )
    if postgresql:
        for name in ("email", "phone"):
            op.create_index(
                f"ix_leads_workspace_{name}_pattern",
                "leads",
                ["workspace_id", name],
                postgresql_ops={name: "text_pattern_ops"},
            )
        op.create_index(
            "ix_leads_tags",
            "leads",
            ["tags"],
            postgresql_using="gin",
            postgresql_ops={"tags": "jsonb_path_ops"},
        )
    # Statistics for the new expression indexes: without them PostgreSQL guesses how many names
    # start with a prefix and keeps walking ix_leads_workspace_created (about 1 s at a million
    # leads instead of under 1 ms), and autovacuum does not analyze a table for a new index.
    # SQLite uses the new indexes for searches only once sqlite_stat1 exists; on an empty table
    # ANALYZE writes nothing.
    op.execute("ANALYZE leads")


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.drop_index("ix_leads_tags", table_name="leads")
        op.drop_index("ix_leads_workspace_phone_pattern", table_name="leads")
        op.drop_index("ix_leads_workspace_email_pattern", table_name="leads")
    op.drop_index("ix_leads_workspace_last_name", table_name="leads")
    op.drop_index("ix_leads_workspace_first_name", table_name="leads")
    op.create_index("ix_leads_origin_id", "leads", ["origin_id"])
    op.drop_index("ix_leads_origin_created", table_name="leads")
    op.drop_index("ix_leads_workspace_status_created", table_name="leads")
