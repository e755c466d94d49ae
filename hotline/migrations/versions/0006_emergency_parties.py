"""emergency linkage: the lines brought into a call and each party's time in the conference

Revision ID: 0006_emergency_parties
Revises: 0009_upstream (main had 0005_widening and 0009_upstream; one head)
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_emergency_parties"
down_revision = "0007_duty_calls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emergency_linkage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line", sa.String(length=8), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=8), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_emergency_linkage_linkedid", "emergency_linkage", ["linkedid"])
    op.create_table(
        "emergency_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("party", sa.String(length=64), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_emergency_party_linkedid", "emergency_party", ["linkedid"])


def downgrade() -> None:
    op.drop_index("ix_emergency_party_linkedid", table_name="emergency_party")
    op.drop_table("emergency_party")
    op.drop_index("ix_emergency_linkage_linkedid", table_name="emergency_linkage")
    op.drop_table("emergency_linkage")
