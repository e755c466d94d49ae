"""ACD: the audit of agent and supervisor actions (one head again after the 0002 branches)

Revision ID: 0003_acd
Revises: 0002_ivr, 0002_recordings, 0002_workorders
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_acd"
down_revision = ("0002_ivr", "0002_recordings", "0002_workorders")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=32), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("supervisor_ext", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("result", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agent_action_at", "agent_action", ["at"])
    op.create_index("ix_agent_action_agent", "agent_action", ["agent"])


def downgrade() -> None:
    op.drop_index("ix_agent_action_agent", table_name="agent_action")
    op.drop_index("ix_agent_action_at", table_name="agent_action")
    op.drop_table("agent_action")
