"""speech navigation on the call record: what was heard, how sure, the choice it made, and
an emergency keyword spotted (its line and word)

Revision ID: 0011_speech_calls
Revises: 0006_emergency_parties
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_speech_calls"
down_revision = "0012_transcripts"
branch_labels = None
depends_on = None

COLUMNS = (
    ("speech_text", sa.String(length=100), ""),
    ("speech_choice", sa.String(length=8), ""),
    ("speech_keyword_line", sa.String(length=8), ""),
    ("speech_keyword", sa.String(length=32), ""),
)


def upgrade() -> None:
    with op.batch_alter_table("call_record") as batch:
        for name, kind, default in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=default))
        batch.add_column(sa.Column("speech_confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_record") as batch:
        batch.drop_column("speech_confidence")
        for name, _, _ in reversed(COLUMNS):
            batch.drop_column(name)
