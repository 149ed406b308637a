"""The audit log records the client address; the read-only partner role becomes viewer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        # An IPv6 address in text is at most 45 characters.
        batch_op.add_column(sa.Column('client_address', sa.String(length=45), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
    # Roles are now admin, coordinator, analyst and viewer; a partner only ever looked.
    op.execute("UPDATE persons SET role = 'viewer' WHERE role = 'partner'")


def downgrade():
    op.execute("UPDATE persons SET role = 'partner' WHERE role IN ('viewer', 'analyst')")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_column('client_address')
