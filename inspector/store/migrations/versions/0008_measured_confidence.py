"""judge attempts: the confidence measured from the model's token probabilities

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("judge_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("measured_confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("judge_attempts", schema=None) as batch_op:
        batch_op.drop_column("measured_confidence")
