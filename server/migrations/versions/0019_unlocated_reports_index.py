"""An index of the reports without a position, by organisation and time.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 23:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # A twin re-key by position (server.incidents.twins) asks whether a report without a
    # position is near in time; through ix_reports_org_created that read grew with the
    # scene. Most reports have a position, so the partial index stays small.
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_unlocated', ['org_id', 'created_at'], unique=False, sqlite_where=sa.text('lat IS NULL'), postgresql_where=sa.text('lat IS NULL'))


def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_unlocated', sqlite_where=sa.text('lat IS NULL'), postgresql_where=sa.text('lat IS NULL'))
