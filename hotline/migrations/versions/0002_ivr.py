"""voice service: blocked numbers and their audit, survey results; survey and
emergency linkage on the call record

Revision ID: 0002_ivr
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_ivr"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocked_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=64), nullable=False),
        sa.Column("refused_calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_blocked_number_number", "blocked_number", ["number"])
    op.create_table(
        "block_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["block_id"], ["blocked_number.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_block_audit_block_id", "block_audit", ["block_id"])
    op.create_index("ix_block_audit_number", "block_audit", ["number"])
    op.create_table(
        "survey_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("caller_number", sa.String(length=40), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_survey_result_linkedid", "survey_result", ["linkedid"])
    with op.batch_alter_table("call_record") as batch_op:
        batch_op.add_column(
            sa.Column("survey", sa.String(length=16), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("emergency_line", sa.String(length=8), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("call_record") as batch_op:
        batch_op.drop_column("emergency_line")
        batch_op.drop_column("survey")
    op.drop_index("ix_survey_result_linkedid", table_name="survey_result")
    op.drop_table("survey_result")
    op.drop_index("ix_block_audit_number", table_name="block_audit")
    op.drop_index("ix_block_audit_block_id", table_name="block_audit")
    op.drop_table("block_audit")
    op.drop_index("ix_blocked_number_number", table_name="blocked_number")
    op.drop_table("blocked_number")
