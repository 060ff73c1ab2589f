"""judge attempts: cost estimate and the endpoint called

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("judge_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cost_usd", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("endpoint", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("judge_attempts", schema=None) as batch_op:
        batch_op.drop_column("endpoint")
        batch_op.drop_column("cost_usd")
