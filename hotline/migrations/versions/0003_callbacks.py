"""callbacks: a waiting caller's kept place and the callback's attempts

Revision ID: 0003_callbacks
Revises: 0002_ivr
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_callbacks"
down_revision = "0002_ivr"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("caller_number", sa.String(length=40), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("request_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("call_linkedid", sa.String(length=64), nullable=False),
        sa.Column("last_result", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callback_linkedid", "callback", ["linkedid"])
    op.create_index("ix_callback_status", "callback", ["status"])
    op.create_index("ix_callback_next_attempt_at", "callback", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_callback_next_attempt_at", table_name="callback")
    op.drop_index("ix_callback_status", table_name="callback")
    op.drop_index("ix_callback_linkedid", table_name="callback")
    op.drop_table("callback")
