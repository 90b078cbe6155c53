"""held leads, used form tokens

Leads judged a bot's on a public form are kept, held (`leads.held`, with what they sent in
`leads.held_submission`), until staff accept or delete them. `used_form_tokens` records the
nonce of every public form token that was sent, so that one token registers one submission.

Revision ID: 0004_public
Revises: 0004_kickoff
Create Date: 2026-12-06 08:00:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import leadsite.models.types

# revision identifiers, used by Alembic.
revision = '0004_public'
down_revision = "0004_kickoff"
branch_labels = None
depends_on = None


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    # Not in batch mode: SQLite adds columns in place, and a batch would reflect the table
    # (whose expression indexes SQLAlchemy cannot reflect).
    op.add_column('leads', sa.Column('held', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('leads', sa.Column('held_submission', json_type, nullable=True))
    op.create_table('used_form_tokens',
    sa.Column('nonce', sa.String(length=40), nullable=False),
    sa.Column('expires_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_used_form_tokens'))
    )
    op.create_index(op.f('ix_used_form_tokens_expires_at'), 'used_form_tokens', ['expires_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_used_form_tokens_expires_at'), table_name='used_form_tokens')
    op.drop_table('used_form_tokens')
    op.drop_column('leads', 'held_submission')
    op.drop_column('leads', 'held')
