"""Two index entries fewer per stored report: device_id alone, and walk_id when empty.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    # ix_reports_device_seq (device_id, change_seq) serves every lookup by device; the walk
    # index keeps only walk observations. Each was a b-tree insert on every pushed report.
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_device_id')
        batch_op.drop_index('ix_reports_walk_id')
        batch_op.create_index('ix_reports_walk_id', ['walk_id'], unique=False, sqlite_where=sa.text('walk_id IS NOT NULL'), postgresql_where=sa.text('walk_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_walk_id', sqlite_where=sa.text('walk_id IS NOT NULL'), postgresql_where=sa.text('walk_id IS NOT NULL'))
        batch_op.create_index('ix_reports_walk_id', ['walk_id'], unique=False)
        batch_op.create_index('ix_reports_device_id', ['device_id'], unique=False)
