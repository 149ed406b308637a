"""An index of the reports a coordinator placed by hand, by incident.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # Partial: pinned reports are few, so asking whether an incident of tens of thousands
    # of members has one costs one index probe, not a scan of its members.
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_pinned', ['incident_id'], unique=False, sqlite_where=sa.text("incident_pinned = 1"), postgresql_where=sa.text('incident_pinned'))


def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_pinned', sqlite_where=sa.text("incident_pinned = 1"), postgresql_where=sa.text('incident_pinned'))
