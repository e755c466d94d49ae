"""call records: the widening steps taken while the caller waited, and their pace

Revision ID: 0005_widening
Revises: 0004_callbacks
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_widening"
down_revision = "0004_callbacks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_record") as batch:
        batch.add_column(
            sa.Column("widening", sa.String(length=120), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("widening_pace", sa.String(length=12), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("call_record") as batch:
        batch.drop_column("widening_pace")
        batch.drop_column("widening")
