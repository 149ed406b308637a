"""Follow-up walks: a walk follows an earlier one; a report may mark an open observation.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
# The lead re-chains the files when merging.
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follows_walk_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_walks_follows_walk_id'), ['follows_walk_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_walks_follows_walk_id_walks'), 'walks', ['follows_walk_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        # No foreign key: a mark keeps naming the observation it re-checked after retention
        # deleted that observation (server.walks.followup drops what no longer exists).
        batch_op.add_column(sa.Column('follows', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('follow_up', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('follow_up')
        batch_op.drop_column('follows')
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_walks_follows_walk_id_walks'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_walks_follows_walk_id'))
        batch_op.drop_column('follows_walk_id')
