"""duty calls: emergency orders phoned to their unit, every attempt; the liaison's phone

Revision ID: 0007_duty_calls
Revises: 0009_upstream
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_duty_calls"
down_revision = "0009_upstream"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("org_unit") as batch:
        batch.add_column(
            sa.Column("liaison_phone", sa.String(length=40), nullable=False, server_default="")
        )
    op.create_table(
        "duty_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sign_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by", sa.String(length=64), nullable=False),
        sa.Column("minutes_late", sa.Integer(), nullable=True),
        sa.Column("overdue_alarm_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["work_order.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["org_unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "dispatched_at"),
    )
    op.create_index("ix_duty_call_order_id", "duty_call", ["order_id"])
    op.create_index("ix_duty_call_status", "duty_call", ["status"])
    op.create_table(
        "duty_call_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("duty_call_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("try_no", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["duty_call_id"], ["duty_call.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["work_order.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duty_call_attempt_duty_call_id", "duty_call_attempt", ["duty_call_id"])
    op.create_index("ix_duty_call_attempt_order_id", "duty_call_attempt", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_duty_call_attempt_order_id", table_name="duty_call_attempt")
    op.drop_index("ix_duty_call_attempt_duty_call_id", table_name="duty_call_attempt")
    op.drop_table("duty_call_attempt")
    op.drop_index("ix_duty_call_status", table_name="duty_call")
    op.drop_index("ix_duty_call_order_id", table_name="duty_call")
    op.drop_table("duty_call")
    with op.batch_alter_table("org_unit") as batch:
        batch.drop_column("liaison_phone")
