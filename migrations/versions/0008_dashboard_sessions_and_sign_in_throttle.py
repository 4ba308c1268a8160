"""dashboard_sessions (signing out ends a session on the server) and dashboard_sign_in_failures
(the sign-in throttle every web process shares)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 15:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'dashboard_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_dashboard_sessions_created', 'dashboard_sessions', ['created_at'], unique=False)
    op.create_table(
        'dashboard_sign_in_failures',
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('client'),
    )
    op.create_index('ix_dashboard_sign_in_failures_window', 'dashboard_sign_in_failures', ['window_start'],
                    unique=False)


def downgrade() -> None:
    # Sessions and counts are short-lived state: dropping them signs everybody out, nothing else.
    op.drop_index('ix_dashboard_sign_in_failures_window', table_name='dashboard_sign_in_failures')
    op.drop_table('dashboard_sign_in_failures')
    op.drop_index('ix_dashboard_sessions_created', table_name='dashboard_sessions')
    op.drop_table('dashboard_sessions')
