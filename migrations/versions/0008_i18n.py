"""leads.language: the language a lead registered in, for their journey page and emails

Revision ID: 0008_i18n
Revises: 0007_analytics_ux
Create Date: 2026-12-06 14:05:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008_i18n'
down_revision = '0008_leadslist'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('language')
