"""due work on the ticket row (next_run_at, escalate_at + their leases), API budgets

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:00:00

Claiming work used to walk every ticket; now each ticket carries when its scoring work and its
escalation work are next due, each behind a partial index that holds only tickets with work, so a
claim costs the same at any history size.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalate_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalation_owner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('escalation_expires_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_tickets_due', 'tickets', ['next_run_at'],
                    postgresql_where=sa.text('next_run_at IS NOT NULL'), sqlite_where=sa.text('next_run_at IS NOT NULL'))
    op.create_index('ix_tickets_escalation_due', 'tickets', ['helpdesk', 'escalate_at'],
                    postgresql_where=sa.text('escalate_at IS NOT NULL'), sqlite_where=sa.text('escalate_at IS NOT NULL'))
    op.create_index('ix_tickets_leased', 'tickets', ['lease_owner'],
                    postgresql_where=sa.text('lease_owner IS NOT NULL'), sqlite_where=sa.text('lease_owner IS NOT NULL'))
    op.create_index('ix_tickets_escalation_leased', 'tickets', ['escalation_owner'],
                    postgresql_where=sa.text('escalation_owner IS NOT NULL'),
                    sqlite_where=sa.text('escalation_owner IS NOT NULL'))
    # Pending work per ticket, for the worker's own reads (the old (status, run_after) indexes
    # served the full scans that are gone).
    op.create_index('ix_comments_pending', 'comments', ['ticket_id', 'run_after'],
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
    op.create_index('ix_escalations_pending', 'escalations', ['ticket_id', 'run_after'],
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
    op.create_table(
        'api_budgets',
        sa.Column('helpdesk', sa.String(length=16), nullable=False),
        sa.Column('account', sa.String(length=128), nullable=False),
        sa.Column('tokens', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('helpdesk', 'account'),
    )
    # Work already queued: due when its earliest pending item is.
    op.execute(
        "UPDATE tickets SET next_run_at = (SELECT min(run_after) FROM comments "
        "WHERE comments.ticket_id = tickets.id AND comments.status = 'pending')"
    )
    op.execute(
        "UPDATE tickets SET escalate_at = (SELECT min(run_after) FROM escalations "
        "WHERE escalations.ticket_id = tickets.id AND escalations.status = 'pending')"
    )


def downgrade() -> None:
    op.drop_table('api_budgets')
    op.drop_index('ix_escalations_pending', table_name='escalations')
    op.drop_index('ix_comments_pending', table_name='comments')
    op.drop_index('ix_tickets_escalation_leased', table_name='tickets')
    op.drop_index('ix_tickets_leased', table_name='tickets')
    op.drop_index('ix_tickets_escalation_due', table_name='tickets')
    op.drop_index('ix_tickets_due', table_name='tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('escalation_expires_at')
        batch_op.drop_column('escalation_owner')
        batch_op.drop_column('escalate_at')
        batch_op.drop_column('next_run_at')
