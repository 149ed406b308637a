"""Incidents keep their id; the grouping's key (the seed report) is its own column.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seed_id', sa.Uuid(), nullable=True))
    # Until now an incident's id was its seed's id: the same value carries over.
    op.execute('UPDATE incidents SET seed_id = id')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.alter_column('seed_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.create_index('ix_incidents_org_seed', ['org_id', 'seed_id'], unique=False)


def downgrade():
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_org_seed')
        batch_op.drop_column('seed_id')
