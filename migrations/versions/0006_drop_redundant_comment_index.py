"""Drop ix_comments_ticket_id: (ticket_id, comment_key) and (ticket_id, commented_at) lead with it

Every webhook's insert maintained it for nothing: both other indexes serve lookups by ticket.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:00:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_ticket_id')


def downgrade() -> None:
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_ticket_id', ['ticket_id'], unique=False)
