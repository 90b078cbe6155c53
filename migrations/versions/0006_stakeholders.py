"""stakeholder links: when opened, and the email that carried them

`stakeholder_links.opened_at` (the first time the stakeholder opened the page) and
`stakeholder_links.message_id` (the outbox email that sent the link), so that the lead page
says whether the link was sent, opened or answered.

Revision ID: 0006_stakeholders
Revises: 0005_journeys
Create Date: 2026-12-06 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from leadsite.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = "0006_stakeholders"
down_revision = "0005_journeys"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (nullable, no constraint): SQLite needs no table copy for it.
    op.add_column(
        "stakeholder_links", sa.Column("opened_at", UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("stakeholder_links", sa.Column("message_id", sa.String(length=40), nullable=True))


def downgrade():
    op.drop_column("stakeholder_links", "message_id")
    op.drop_column("stakeholder_links", "opened_at")
