"""ix_tickets_number: a ticket found by its helpdesk and number alone (`show zendesk:48213`, the
dashboard's search, the list's numbers shared by two accounts), at any history size

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 21:20:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_tickets_number', 'tickets', ['helpdesk', 'external_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tickets_number', table_name='tickets')
