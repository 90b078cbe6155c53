"""journeys that do what staff mean

Decisions after stages and a fallback target (`stages.decisions`, `stages.otherwise`), a
double opt-in confirmation window on funnels, archived data points, the webhook step an outbox
message answers for, and the front-office's tables: lead sign-in links, uploaded files,
signatures and stakeholder links. Existing funnels keep working as they were: no decisions
means the next stage in order, as before.

Revision ID: 0005_journeys
Revises: 0004_ingest
Create Date: 2026-12-06 11:00:00.000000

"""
import warnings

from alembic import op
import sqlalchemy as sa

from leadsite.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = "0005_journeys"
down_revision = "0004_ingest"
branch_labels = None
depends_on = None


def _json():
    from sqlalchemy.dialects import postgresql

    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _id(name, **kwargs):
    return sa.Column(name, sa.String(length=40), **kwargs)


def _owned(*extra):
    """Columns every front-office row has: its id and workspace, and its foreign keys."""
    return [
        _id("id", nullable=False),
        _id("workspace_id", nullable=False),
        *extra,
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    ]


def upgrade():
    with op.batch_alter_table("stages") as batch_op:
        batch_op.add_column(sa.Column("decisions", _json(), nullable=True))
        batch_op.add_column(sa.Column("otherwise", sa.String(length=40), nullable=True))
    with op.batch_alter_table("funnels") as batch_op:
        batch_op.add_column(
            sa.Column("confirm_within_hours", sa.Integer(), nullable=False, server_default="72")
        )
    with op.batch_alter_table("data_points") as batch_op:
        batch_op.add_column(sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True))
    # SQLite rebuilds the table, reflecting `leads` (its foreign key), whose expression index
    # (lower(last_name)) SQLAlchemy cannot reflect and warns about: harmless here.
    with warnings.catch_warnings(), op.batch_alter_table("outbox_messages") as batch_op:
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        batch_op.add_column(sa.Column("step_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            "fk_outbox_messages_step_id", "journey_steps", ["step_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_outbox_messages_step_id", ["step_id"])

    op.create_table(
        "lead_sign_ins",
        *_owned(
            _id("lead_id", nullable=False),
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
            sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
            sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
            sa.UniqueConstraint("token_hash"),
        ),
    )
    op.create_index("ix_lead_sign_ins_workspace_id", "lead_sign_ins", ["workspace_id"])
    op.create_index("ix_lead_sign_ins_lead_id", "lead_sign_ins", ["lead_id"])

    op.create_table(
        "journey_files",
        *_owned(
            _id("lead_id", nullable=False),
            _id("journey_id", nullable=False),
            _id("step_id", nullable=True),
            sa.Column("filename", sa.String(length=255), nullable=False),
            sa.Column("content_type", sa.String(length=120), nullable=False),
            sa.Column("size", sa.Integer(), nullable=False),
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("content", sa.LargeBinary(), nullable=False),
            sa.Column("uploaded_by", sa.String(length=20), nullable=False),
            sa.Column("uploader", sa.String(length=254), nullable=True),
            sa.Column("ip", sa.String(length=45), nullable=True),
            sa.Column("user_agent", sa.String(length=300), nullable=True),
            sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["step_id"], ["journey_steps.id"], ondelete="SET NULL"),
        ),
    )
    for column in ("workspace_id", "lead_id", "journey_id", "step_id"):
        op.create_index(f"ix_journey_files_{column}", "journey_files", [column])

    op.create_table(
        "signatures",
        *_owned(
            _id("lead_id", nullable=False),
            _id("journey_id", nullable=False),
            _id("step_id", nullable=True),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("text_sha256", sa.String(length=64), nullable=False),
            _id("document_id", nullable=True),
            sa.Column("consent", sa.Text(), nullable=False),
            sa.Column("signed_at", UTCDateTime(timezone=True), nullable=False),
            sa.Column("ip", sa.String(length=45), nullable=True),
            sa.Column("user_agent", sa.String(length=300), nullable=True),
            sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["step_id"], ["journey_steps.id"], ondelete="SET NULL"),
            sa.ForeignKeyConstraint(["document_id"], ["journey_files.id"], ondelete="SET NULL"),
        ),
    )
    for column in ("workspace_id", "lead_id", "journey_id", "step_id"):
        op.create_index(f"ix_signatures_{column}", "signatures", [column])

    op.create_table(
        "stakeholder_links",
        *_owned(
            _id("journey_id", nullable=False),
            _id("step_id", nullable=False),
            sa.Column("email", sa.String(length=254), nullable=False),
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
            sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
            sa.Column("decision", sa.String(length=10), nullable=True),
            sa.Column("comment", sa.Text(), nullable=True),
            sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
            sa.Column("ip", sa.String(length=45), nullable=True),
            sa.Column("user_agent", sa.String(length=300), nullable=True),
            sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["step_id"], ["journey_steps.id"], ondelete="CASCADE"),
            sa.UniqueConstraint("token_hash"),
        ),
    )
    for column in ("workspace_id", "journey_id", "step_id"):
        op.create_index(f"ix_stakeholder_links_{column}", "stakeholder_links", [column])


def downgrade():
    for table, columns in (
        ("stakeholder_links", ("workspace_id", "journey_id", "step_id")),
        ("signatures", ("workspace_id", "lead_id", "journey_id", "step_id")),
        ("journey_files", ("workspace_id", "lead_id", "journey_id", "step_id")),
        ("lead_sign_ins", ("workspace_id", "lead_id")),
    ):
        for column in columns:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.drop_table(table)
    # SQLite rebuilds the table, reflecting `leads` (its foreign key), whose expression index
    # (lower(last_name)) SQLAlchemy cannot reflect and warns about: harmless here.
    with warnings.catch_warnings(), op.batch_alter_table("outbox_messages") as batch_op:
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        batch_op.drop_index("ix_outbox_messages_step_id")
        batch_op.drop_constraint("fk_outbox_messages_step_id", type_="foreignkey")
        batch_op.drop_column("step_id")
    with op.batch_alter_table("data_points") as batch_op:
        batch_op.drop_column("archived_at")
    with op.batch_alter_table("funnels") as batch_op:
        batch_op.drop_column("confirm_within_hours")
    with op.batch_alter_table("stages") as batch_op:
        batch_op.drop_column("otherwise")
        batch_op.drop_column("decisions")
