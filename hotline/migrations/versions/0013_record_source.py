"""call records: what each was made from, the call's AMI events or Asterisk's CDR alone

Revision ID: 0013_record_source
Revises: 0006_emergency_parties (the chain is fixed at merge)
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_record_source"
down_revision = "0006_emergency_parties"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the records before this migration were all made from events: the backstop's calls
    # cannot be told apart any more
    with op.batch_alter_table("call_record") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=8), nullable=False, server_default="ami")
        )
        batch.create_index("ix_call_record_source", ["source"])


def downgrade() -> None:
    with op.batch_alter_table("call_record") as batch:
        batch.drop_index("ix_call_record_source")
        batch.drop_column("source")
