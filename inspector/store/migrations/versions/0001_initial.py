"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "recipe_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("reference_sha256", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_recipe_versions_name_version"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("camera_id", sa.String(length=200), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("part_id", sa.String(length=200), nullable=True),
        sa.Column("serial", sa.String(length=200), nullable=True),
        sa.Column("lot", sa.String(length=200), nullable=True),
        sa.Column("recipe_version_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_format", sa.String(length=8), nullable=False),
        sa.Column("image_width", sa.Integer(), nullable=False),
        sa.Column("image_height", sa.Integer(), nullable=False),
        sa.Column("roi_x", sa.Integer(), nullable=True),
        sa.Column("roi_y", sa.Integer(), nullable=True),
        sa.Column("roi_width", sa.Integer(), nullable=True),
        sa.Column("roi_height", sa.Integer(), nullable=True),
        sa.Column("queue_ms", sa.Float(), nullable=False),
        sa.Column("judge_ms", sa.Float(), nullable=False),
        sa.Column("total_ms", sa.Float(), nullable=False),
        sa.Column("image_left_site", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipe_version_id"],
            ["recipe_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index("ix_inspections_captured_at", ["captured_at"], unique=False)
        batch_op.create_index("ix_inspections_lot", ["lot"], unique=False)
        batch_op.create_index("ix_inspections_outcome", ["outcome"], unique=False)
        batch_op.create_index("ix_inspections_serial", ["serial"], unique=False)

    op.create_table(
        "defects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("class_name", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("x0", sa.Integer(), nullable=True),
        sa.Column("y0", sa.Integer(), nullable=True),
        sa.Column("x1", sa.Integer(), nullable=True),
        sa.Column("y1", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("defects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_defects_inspection_id"), ["inspection_id"], unique=False
        )

    op.create_table(
        "judge_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=40), nullable=False),
        sa.Column("model_id", sa.String(length=300), nullable=False),
        sa.Column("model_revision", sa.String(length=100), nullable=True),
        sa.Column("prompt_hash", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=True),
        sa.Column("image_left_site", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("judge_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_judge_attempts_inspection_id"), ["inspection_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("judge_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_judge_attempts_inspection_id"))

    op.drop_table("judge_attempts")
    with op.batch_alter_table("defects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_defects_inspection_id"))

    op.drop_table("defects")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index("ix_inspections_serial")
        batch_op.drop_index("ix_inspections_outcome")
        batch_op.drop_index("ix_inspections_lot")
        batch_op.drop_index("ix_inspections_captured_at")

    op.drop_table("inspections")
    op.drop_table("recipe_versions")
