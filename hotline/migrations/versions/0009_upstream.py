"""upstream outbox: changes of call records and work orders waiting for the platform

Revision ID: 0009_upstream
Revises: 0004_callbacks (on main: 0005_widening; the chain is fixed at merge)
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_upstream"
down_revision = "0005_widening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        # the id is the change's version: SQLite must never hand out a pruned one again
        sqlite_autoincrement=True,
    )
    op.create_index("ix_upstream_outbox_due", "upstream_outbox", ["status", "next_at"])
    op.create_index("ix_upstream_outbox_record", "upstream_outbox", ["kind", "ref"])


def downgrade() -> None:
    op.drop_index("ix_upstream_outbox_record", table_name="upstream_outbox")
    op.drop_index("ix_upstream_outbox_due", table_name="upstream_outbox")
    op.drop_table("upstream_outbox")
