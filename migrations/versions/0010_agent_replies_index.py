"""ix_comments_agent_replies: whether a helpdesk account's webhook kind has ever delivered an
agent's public reply (the unanswered count needs them), one index probe at any history size

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 01:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The models' AGENT_REPLY_INDEX_WHERE as of this revision (revision files never import the models).
WHERE = "author_role = 'agent' AND is_public = true"


def upgrade() -> None:
    op.create_index('ix_comments_agent_replies', 'comments', ['source', 'ticket_id'], unique=False,
                    postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index('ix_comments_agent_replies', table_name='comments')
