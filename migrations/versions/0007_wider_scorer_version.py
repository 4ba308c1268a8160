"""scores.scorer_version: 255 characters (the model's name is part of it: a cascade with a model
name over 34 characters could not store a score on PostgreSQL)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:50:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.alter_column('scorer_version', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=False)


def downgrade() -> None:
    # A longer version cannot be kept in 64 characters (PostgreSQL refuses the ALTER): its start,
    # which names the scorer, is.
    op.execute("UPDATE scores SET scorer_version = substr(scorer_version, 1, 64) WHERE length(scorer_version) > 64")
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.alter_column('scorer_version', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=False)
