"""the leads list sorted by name or email: an index for each order

Keyset pagination reads the matches in the sort's order and stops after a page; without an
index each page would sort every lead of the workspace.

Revision ID: 0008_leadslist
Revises: 0007_analytics_ux
Create Date: 2026-12-06 14:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008_leadslist"
down_revision = '0008_fixes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_leads_workspace_name_sort",
        "leads",
        [
            "workspace_id",
            sa.text("coalesce(lower(first_name), '')"),
            sa.text("coalesce(lower(last_name), '')"),
            "id",
        ],
    )
    op.create_index(
        "ix_leads_workspace_email_sort",
        "leads",
        ["workspace_id", sa.text("coalesce(email, '')"), "id"],
    )


def downgrade():
    op.drop_index("ix_leads_workspace_email_sort", table_name="leads")
    op.drop_index("ix_leads_workspace_name_sort", table_name="leads")
