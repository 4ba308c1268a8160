"""comments.text: the text cleaned once at ingest; escalations.group_id: the group the note names

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 21:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=True))
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_column('group_id')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('text')
