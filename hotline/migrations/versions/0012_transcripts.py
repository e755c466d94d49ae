"""transcripts: the text of left messages (and call recordings), one per recording

Revision ID: 0012_transcripts
Revises: 0006_emergency_parties
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_transcripts"
down_revision = "0013_record_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcript",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("work_order_number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("audio_seconds", sa.Float(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["recording.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recording_id"),
    )
    op.create_index("ix_transcript_linkedid", "transcript", ["linkedid"])
    op.create_index("ix_transcript_work_order_number", "transcript", ["work_order_number"])


def downgrade() -> None:
    op.drop_index("ix_transcript_work_order_number", table_name="transcript")
    op.drop_index("ix_transcript_linkedid", table_name="transcript")
    op.drop_table("transcript")
